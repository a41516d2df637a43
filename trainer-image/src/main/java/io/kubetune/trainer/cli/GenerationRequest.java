package io.kubetune.trainer.cli;

import java.nio.file.Path;

/**
 * What {@code generate} asks for.
 *
 * @param modelDir base model folder
 * @param adapterDir PEFT adapter folder, or null for the base model alone
 * @param prompt the prompt; used as is, or as the user turn of a chat when {@code chat} is set
 * @param maxNewTokens most tokens to generate
 * @param temperature 0 for greedy decoding
 * @param topP nucleus sampling threshold in (0, 1]
 * @param seed sampling seed
 * @param chat render the prompt as a one-turn conversation with the model's chat template
 */
public record GenerationRequest(
    Path modelDir,
    Path adapterDir,
    String prompt,
    int maxNewTokens,
    double temperature,
    double topP,
    long seed,
    boolean chat) {}
