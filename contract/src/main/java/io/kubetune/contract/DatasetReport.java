package io.kubetune.contract;

import java.util.List;

/**
 * What dataset validation found. Written by {@code validate-dataset} as its termination message and
 * embedded in the progress document; the operator copies it into {@code status.datasetStats}.
 *
 * @param valid true when the dataset may be trained on ({@code onError: Warn} keeps it valid)
 * @param format the detected or declared format (chat, instruction, completion, text)
 * @param trainExamples examples used for training
 * @param validExamples examples held out for validation
 * @param totalTokens tokens over all examples after templating
 * @param truncatedExamples examples cut to {@code maxSeqLength}
 * @param errorCount total problems found; {@code errors} keeps only the first few
 * @param errors the first {@link Contract#MAX_REPORTED_ERRORS} problems, in line order
 */
public record DatasetReport(
    boolean valid,
    String format,
    long trainExamples,
    long validExamples,
    long totalTokens,
    long truncatedExamples,
    long errorCount,
    List<DatasetError> errors) {

  public DatasetReport {
    errors = errors == null ? List.of() : List.copyOf(errors);
  }
}
