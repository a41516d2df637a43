package io.kubetune.contract;

/**
 * A complete checkpoint on the artifact store.
 *
 * @param step optimizer step the checkpoint was taken after
 * @param path folder of the checkpoint inside the trainer pod
 * @param validLoss validation loss at that step, when evaluated
 */
public record CheckpointInfo(long step, String path, Double validLoss) {}
