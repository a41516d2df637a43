package io.kubetune.trainer.train;

/**
 * What one optimizer step did.
 *
 * @param step optimizer steps done, counting this one
 * @param totalSteps optimizer steps planned
 * @param epoch fractional epoch after this step
 * @param trainLoss mean cross-entropy over the label tokens of this step's batch
 * @param learningRate the learning rate this step used
 * @param gradNorm global gradient norm before clipping
 * @param trainedTokens tokens (label and prompt, without padding) seen so far
 * @param labelTokens label tokens in this step's batch
 * @param tokensPerSecond throughput since training started
 * @param elapsedSeconds seconds since training started
 * @param lossScale the fp16 loss scale after this step, or null in fp32
 * @param skipped whether this step's update was skipped because its fp16 gradients overflowed
 * @param skippedSteps steps skipped so far, this one included
 */
public record StepRecord(
    long step,
    long totalSteps,
    double epoch,
    double trainLoss,
    double learningRate,
    double gradNorm,
    long trainedTokens,
    long labelTokens,
    double tokensPerSecond,
    double elapsedSeconds,
    Float lossScale,
    boolean skipped,
    long skippedSteps) {}
