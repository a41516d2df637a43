package io.kubetune.contract;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Names, limits and the one JSON mapping shared by the trainer and the operator. Both sides read
 * and write the contract documents only through this class so they cannot drift apart.
 */
public final class Contract {
  /** Version of the progress document and result schema. */
  public static final int SCHEMA_VERSION = 1;

  /** Key of the rendered trainer config in the {@code <job>-config} ConfigMap. */
  public static final String CONFIG_KEY = "job.json";

  /** Key of the progress document in the {@code <job>-progress} ConfigMap. */
  public static final String PROGRESS_KEY = "progress.json";

  /** Kubernetes truncates termination messages beyond this size. */
  public static final int MAX_TERMINATION_MESSAGE_BYTES = 4096;

  /** How many dataset errors travel in reports; the rest are only counted. */
  public static final int MAX_REPORTED_ERRORS = 20;

  /** Default fewest seconds between two progress ConfigMap updates. */
  public static final int DEFAULT_PROGRESS_INTERVAL_SECONDS = 5;

  private static final ObjectMapper MAPPER =
      JsonMapper.builder()
          .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .findAndAddModules()
          .build();

  private Contract() {}

  /** The name of the progress ConfigMap of a FineTuneJob. */
  public static String progressConfigMapName(String jobName) {
    return jobName + "-progress";
  }

  /** The name of the trainer config ConfigMap of a FineTuneJob. */
  public static String configConfigMapName(String jobName) {
    return jobName + "-config";
  }

  /** The shared JSON mapper (unknown fields ignored, so older readers accept newer writers). */
  public static ObjectMapper json() {
    return MAPPER;
  }

  /** Serializes a contract document. */
  public static String write(Object document) {
    try {
      return MAPPER.writeValueAsString(document);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("cannot serialize " + document.getClass(), e);
    }
  }

  /**
   * Parses a contract document.
   *
   * @throws ContractException when the text is not a valid document of that type
   */
  public static <T> T read(String text, Class<T> type) {
    if (text == null || text.isBlank()) {
      throw new ContractException("empty " + type.getSimpleName() + " document");
    }
    try {
      return MAPPER.readValue(text, type);
    } catch (JsonProcessingException e) {
      throw new ContractException(
          "invalid " + type.getSimpleName() + " document: " + e.getOriginalMessage(), e);
    }
  }

  /**
   * Parses a document written by hand (the trainer config), rejecting unknown fields so that a typo
   * is an error rather than a silently ignored setting.
   *
   * @throws ContractException naming the unknown or malformed field
   */
  public static <T> T readStrict(String text, Class<T> type) {
    try {
      return MAPPER
          .readerFor(type)
          .with(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .readValue(text);
    } catch (JsonProcessingException e) {
      throw new ContractException(
          "invalid " + type.getSimpleName() + ": " + e.getOriginalMessage(), e);
    }
  }

  /**
   * Serializes a dataset report so that it fits a termination message, dropping reported errors
   * (never the counts) until it does.
   */
  public static String writeBounded(DatasetReport report) {
    List<DatasetError> errors = new ArrayList<>(report.errors());
    while (true) {
      DatasetReport candidate =
          new DatasetReport(
              report.valid(),
              report.format(),
              report.trainExamples(),
              report.validExamples(),
              report.totalTokens(),
              report.truncatedExamples(),
              report.errorCount(),
              errors);
      String text = write(candidate);
      if (fits(text) || errors.isEmpty()) {
        return text;
      }
      errors.remove(errors.size() - 1);
    }
  }

  /**
   * Serializes a result so that it fits a termination message, shortening the message when it must.
   */
  public static String writeBounded(TrainerResult result) {
    String text = write(result);
    if (fits(text) || result.message() == null) {
      return text;
    }
    int excess = text.getBytes(StandardCharsets.UTF_8).length - MAX_TERMINATION_MESSAGE_BYTES;
    String message = result.message();
    int keep = Math.max(0, message.length() - excess - 16);
    TrainerResult shorter =
        new TrainerResult(
            result.schemaVersion(),
            result.succeeded(),
            result.failure(),
            message.substring(0, keep) + "...",
            result.adapter(),
            result.baseline(),
            result.finalEval(),
            result.trainLoss(),
            result.steps(),
            result.footprint());
    return write(shorter);
  }

  /**
   * Serializes an adapter check verdict so that it fits a termination message, dropping the listed
   * target modules and then shortening the message when it must (never the verdict or the digest).
   */
  public static String writeBounded(AdapterCheckResult result) {
    String text = write(result);
    if (fits(text)) {
      return text;
    }
    AdapterCheckResult fewer =
        new AdapterCheckResult(
            result.ok(), result.reason(), result.message(), result.digest(), result.rank(), null);
    text = write(fewer);
    if (fits(text) || result.message() == null) {
      return text;
    }
    int excess = text.getBytes(StandardCharsets.UTF_8).length - MAX_TERMINATION_MESSAGE_BYTES;
    String message = result.message();
    int keep = Math.max(0, message.length() - excess - 16);
    return write(
        new AdapterCheckResult(
            result.ok(),
            result.reason(),
            message.substring(0, keep) + "...",
            result.digest(),
            result.rank(),
            null));
  }

  private static boolean fits(String text) {
    return text.getBytes(StandardCharsets.UTF_8).length <= MAX_TERMINATION_MESSAGE_BYTES;
  }
}
