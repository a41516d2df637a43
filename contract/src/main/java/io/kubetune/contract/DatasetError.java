package io.kubetune.contract;

/**
 * One dataset problem.
 *
 * @param line 1-based line number in the file, or 0 for dataset-level errors
 * @param code the error code
 * @param message what is wrong and how to fix it
 */
public record DatasetError(long line, DatasetErrorCode code, String message) {}
