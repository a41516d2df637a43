package io.kubetune.trainer.data;

import io.kubetune.contract.DatasetErrorCode;
import io.kubetune.contract.DatasetReport;
import io.kubetune.contract.TrainerConfig;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

/**
 * Reads, checks, templates, tokenizes, truncates, splits and packs a dataset for training.
 *
 * <p>Files are streamed line by line. Every problem becomes a line-numbered {@code DatasetError};
 * with {@code onError: Fail} any problem makes the dataset invalid, with {@code Warn} bad lines are
 * dropped (and reported) and the rest is used. Problems with the dataset as a whole (unreadable,
 * empty, too few examples) make it invalid either way.
 */
public final class DatasetPipeline {
  /** Used when {@code minExamples} is not set, as the FineTuneJob default. */
  public static final int DEFAULT_MIN_EXAMPLES = 10;

  private static final String VALIDATION_FILE = "validation file: ";

  /**
   * Longest line read; a longer one (e.g. a binary file without newlines) is skipped as malformed
   * rather than exhausting memory.
   */
  static final int MAX_LINE_BYTES = 64 << 20;

  private DatasetPipeline() {}

  /**
   * Prepares the training data.
   *
   * @param cfg the dataset settings
   * @param modelDir the base model folder (tokenizer.json, tokenizer_config.json)
   * @param maxSeqLength longest sequence; longer examples are truncated (and counted)
   * @param packing pack examples into sequences of {@code maxSeqLength} ({@link Packing})
   * @param seed seed of the train/validation split
   * @return sequences and the report; when the report is invalid the lists are empty
   * @throws IOException when the model's tokenizer cannot be loaded (a model problem, not a dataset
   *     problem); dataset file problems are in the report
   * @throws IllegalArgumentException for settings out of range (onError, validationSplit)
   */
  public static PreparedDataset prepare(
      TrainerConfig.Dataset cfg, Path modelDir, int maxSeqLength, boolean packing, long seed)
      throws IOException {
    if (maxSeqLength <= 0) {
      throw new IllegalArgumentException("maxSeqLength must be positive, got " + maxSeqLength);
    }
    Run run = run(cfg, modelDir, maxSeqLength, true, seed);
    if (!run.report.valid()) {
      return new PreparedDataset(List.of(), List.of(), run.report);
    }
    List<TokenizedExample> train = run.train;
    List<TokenizedExample> validation = run.validation;
    if (packing) {
      train = Packing.pack(train, maxSeqLength, run.eosId);
      validation = Packing.pack(validation, maxSeqLength, run.eosId);
    }
    return new PreparedDataset(train, validation, run.report);
  }

  /** What one pass over the data produced. */
  record Run(
      DatasetReport report,
      List<TokenizedExample> train,
      List<TokenizedExample> validation,
      int eosId) {}

  /**
   * One pass over the data.
   *
   * @param maxSeqLength truncation length, or 0 for none
   * @param keep whether to keep the examples (validation only counts them, in bounded memory)
   */
  static Run run(
      TrainerConfig.Dataset cfg, Path modelDir, int maxSeqLength, boolean keep, long seed)
      throws IOException {
    return run(cfg, modelDir, maxSeqLength, keep, seed, MAX_LINE_BYTES);
  }

  /** {@link #run} with another line length limit, for tests. */
  static Run run(
      TrainerConfig.Dataset cfg,
      Path modelDir,
      int maxSeqLength,
      boolean keep,
      long seed,
      int maxLineBytes)
      throws IOException {
    boolean warn = onErrorWarn(cfg.onError());
    double fraction = cfg.validationSplit() == null ? 0 : cfg.validationSplit();
    if (!(fraction >= 0 && fraction < 1)) {
      throw new IllegalArgumentException(
          "validationSplit must be at least 0 and below 1, got " + cfg.validationSplit());
    }
    int minExamples = cfg.minExamples() == null ? DEFAULT_MIN_EXAMPLES : cfg.minExamples();
    ErrorLog errors = new ErrorLog();
    DatasetFormat declared;
    try {
      declared = DatasetFormat.parse(cfg.format());
    } catch (IllegalArgumentException e) {
      errors.add(
          0,
          DatasetErrorCode.UNKNOWN_FORMAT,
          e.getMessage() + "; " + DatasetErrorCode.UNKNOWN_FORMAT.hint());
      return new Run(
          report(false, String.valueOf(cfg.format()), 0, 0, 0, 0, errors),
          List.of(),
          List.of(),
          -1);
    }
    try (ModelTokenizer tokenizer = ModelTokenizer.load(modelDir)) {
      String source = cfg.chatTemplate() != null ? cfg.chatTemplate() : tokenizer.chatTemplate();
      ChatTemplate template = ChatTemplate.of(source, tokenizer.specialTokens());
      Scanner scanner =
          new Scanner(
              new LineParser(declared),
              new ExampleEncoder(tokenizer, template),
              errors,
              cfg.maxTokensPerExample(),
              maxSeqLength,
              keep,
              warn,
              maxLineBytes);
      Scanner.Result train = scanner.scan(cfg.train(), "");
      if (train.readable()) {
        if (train.lines() == 0) {
          errors.add(
              0,
              DatasetErrorCode.EMPTY_DATASET,
              "the training file has no examples; " + DatasetErrorCode.EMPTY_DATASET.hint());
        } else if (train.valid() == 0) {
          errors.add(
              0,
              DatasetErrorCode.EMPTY_DATASET,
              "none of the "
                  + train.lines()
                  + " lines of the training file is a valid example; "
                  + DatasetErrorCode.EMPTY_DATASET.hint());
        } else if (train.valid() < minExamples) {
          errors.add(
              0,
              DatasetErrorCode.TOO_FEW_EXAMPLES,
              train.valid()
                  + " valid training examples, fewer than minExamples "
                  + minExamples
                  + "; "
                  + DatasetErrorCode.TOO_FEW_EXAMPLES.hint());
        }
      }
      Scanner.Result validation = null;
      if (cfg.validation() != null) {
        validation = scanner.scan(cfg.validation(), VALIDATION_FILE);
        if (validation.readable() && validation.valid() == 0) {
          errors.add(
              0,
              DatasetErrorCode.EMPTY_DATASET,
              VALIDATION_FILE
                  + "no valid examples in "
                  + validation.lines()
                  + " lines; "
                  + DatasetErrorCode.EMPTY_DATASET.hint());
        }
      }
      boolean valid = warn ? !errors.hasDatasetLevel() : errors.count() == 0;
      DatasetFormat format = scanner.parser.format();
      String formatName = format == null ? "auto" : format.id();
      long tokens = train.tokens() + (validation == null ? 0 : validation.tokens());
      long truncated = train.truncated() + (validation == null ? 0 : validation.truncated());
      List<TokenizedExample> trainList = new ArrayList<>();
      List<TokenizedExample> validationList = new ArrayList<>();
      long trainCount;
      long validationCount;
      if (validation != null) {
        trainCount = train.valid();
        validationCount = validation.valid();
        if (keep && valid) {
          trainList = train.examples();
          validationList = validation.examples();
        }
      } else {
        int n = (int) train.valid();
        validationCount = Split.validationCount(n, fraction);
        trainCount = n - validationCount;
        if (keep && valid) {
          BitSet held = Split.heldOut(n, fraction, seed);
          List<TokenizedExample> all = train.examples();
          for (int i = 0; i < all.size(); i++) {
            (held.get(i) ? validationList : trainList).add(all.get(i));
          }
        }
      }
      DatasetReport report =
          report(valid, formatName, trainCount, validationCount, tokens, truncated, errors);
      return new Run(report, trainList, validationList, tokenizer.eosId());
    }
  }

  private static DatasetReport report(
      boolean valid,
      String format,
      long train,
      long validation,
      long tokens,
      long truncated,
      ErrorLog errors) {
    return new DatasetReport(
        valid, format, train, validation, tokens, truncated, errors.count(), errors.first());
  }

  private static boolean onErrorWarn(String onError) {
    if (onError == null || onError.equalsIgnoreCase("fail")) {
      return false;
    }
    if (onError.equalsIgnoreCase("warn")) {
      return true;
    }
    throw new IllegalArgumentException("onError must be Fail or Warn, got '" + onError + "'");
  }

  /** Streams one JSONL file through parsing, encoding and the length checks. */
  static final class Scanner {
    final LineParser parser;
    private final ExampleEncoder encoder;
    private final ErrorLog errors;
    private final Integer maxTokensPerExample;
    private final int maxSeqLength;
    private final boolean keep;
    private final boolean warn;
    private final int maxLineBytes;

    Scanner(
        LineParser parser,
        ExampleEncoder encoder,
        ErrorLog errors,
        Integer maxTokensPerExample,
        int maxSeqLength,
        boolean keep,
        boolean warn,
        int maxLineBytes) {
      this.parser = parser;
      this.encoder = encoder;
      this.errors = errors;
      this.maxTokensPerExample = maxTokensPerExample;
      this.maxSeqLength = maxSeqLength;
      this.keep = keep;
      this.warn = warn;
      this.maxLineBytes = maxLineBytes;
    }

    record Result(
        boolean readable,
        long lines,
        long valid,
        long tokens,
        long truncated,
        List<TokenizedExample> examples) {}

    Result scan(String file, String where) {
      List<TokenizedExample> examples = new ArrayList<>();
      long lines = 0;
      long valid = 0;
      long tokens = 0;
      long truncated = 0;
      long lineNo = 0;
      if (file == null || file.isBlank()) {
        errors.add(
            0,
            DatasetErrorCode.UNREADABLE,
            where + "no dataset file is configured; " + DatasetErrorCode.UNREADABLE.hint());
        return new Result(false, 0, 0, 0, 0, examples);
      }
      Path path = Path.of(file);
      if (!Files.isRegularFile(path) || !Files.isReadable(path)) {
        errors.add(
            0,
            DatasetErrorCode.UNREADABLE,
            where
                + file
                + (Files.exists(path) ? " is not a readable file" : " does not exist")
                + "; "
                + DatasetErrorCode.UNREADABLE.hint());
        return new Result(false, 0, 0, 0, 0, examples);
      }
      CharsetDecoder utf8 =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT);
      try (InputStream in = new BufferedInputStream(Files.newInputStream(path))) {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        while (true) {
          byte[] bytes = readLine(in, buffer, maxLineBytes);
          if (bytes == null) {
            break;
          }
          if (bytes == OVERLONG) {
            lineNo++;
            lines++;
            errors.add(
                lineNo,
                DatasetErrorCode.MALFORMED_JSON,
                where
                    + "the line is longer than "
                    + maxLineBytes
                    + " bytes (is this a JSONL file?); "
                    + DatasetErrorCode.MALFORMED_JSON.hint());
            if (!warn) {
              examples.clear();
            }
            continue;
          }
          String line;
          try {
            line = utf8.decode(ByteBuffer.wrap(bytes)).toString();
          } catch (CharacterCodingException e) {
            lineNo++;
            lines++;
            errors.add(
                lineNo,
                DatasetErrorCode.MALFORMED_JSON,
                where
                    + "the line is not valid UTF-8 (save the file as UTF-8); "
                    + DatasetErrorCode.MALFORMED_JSON.hint());
            if (!warn) {
              examples.clear();
            }
            continue;
          }
          lineNo++;
          if (lineNo == 1 && line.startsWith("\uFEFF")) {
            line = line.substring(1);
          }
          if (line.isBlank()) {
            continue;
          }
          lines++;
          try {
            TokenizedExample e = encoder.encode(parser.parse(line));
            if (maxTokensPerExample != null && e.length() > maxTokensPerExample) {
              throw new DatasetProblem(
                  DatasetErrorCode.TOO_LONG,
                  "the example has "
                      + e.length()
                      + " tokens, more than maxTokensPerExample "
                      + maxTokensPerExample);
            }
            if (maxSeqLength > 0 && e.length() > maxSeqLength) {
              TokenizedExample cut = e.truncate(maxSeqLength);
              if (cut.labeledTokens() == 0) {
                throw new DatasetProblem(
                    DatasetErrorCode.TOO_LONG,
                    "no assistant or completion token is left after truncation to maxSeqLength "
                        + maxSeqLength
                        + " (the example has "
                        + e.length()
                        + " tokens), raise hyperparameters.maxSeqLength");
              }
              truncated++;
              e = cut;
            }
            valid++;
            tokens += e.length();
            // With onError: Fail one bad line voids the dataset: stop holding examples.
            if (keep && (warn || errors.count() == 0)) {
              examples.add(e);
            }
          } catch (DatasetProblem p) {
            errors.add(lineNo, p, where);
            if (!warn) {
              examples.clear();
            }
          }
        }
      } catch (IOException e) {
        // Line 0: a file read halfway must invalidate the dataset even with onError: Warn.
        errors.add(
            0,
            DatasetErrorCode.UNREADABLE,
            where
                + "reading "
                + file
                + " failed after line "
                + lineNo
                + ": "
                + e.getMessage()
                + "; "
                + DatasetErrorCode.UNREADABLE.hint());
        return new Result(false, lines, valid, tokens, truncated, examples);
      }
      return new Result(true, lines, valid, tokens, truncated, examples);
    }

    private static final byte[] OVERLONG = new byte[0];

    /**
     * The next line's bytes without its line break, {@link #OVERLONG} (the line skipped) when it
     * exceeds {@code limit}, or null at the end of the stream.
     */
    private static byte[] readLine(InputStream in, ByteArrayOutputStream buffer, int limit)
        throws IOException {
      buffer.reset();
      int b = in.read();
      if (b < 0) {
        return null;
      }
      boolean overlong = false;
      while (b >= 0 && b != '\n') {
        if (buffer.size() < limit) {
          buffer.write(b);
        } else {
          overlong = true;
        }
        b = in.read();
      }
      if (overlong) {
        return OVERLONG;
      }
      byte[] bytes = buffer.toByteArray();
      int n = bytes.length;
      return n > 0 && bytes[n - 1] == '\r' ? java.util.Arrays.copyOf(bytes, n - 1) : bytes;
    }
  }
}
