package io.kubetune.trainer.job;

import ai.djl.ndarray.NDManager;
import io.kubetune.contract.FailureReason;
import io.kubetune.trainer.cli.ConfigException;
import io.kubetune.trainer.cli.Generation;
import io.kubetune.trainer.cli.GenerationRequest;
import io.kubetune.trainer.cli.TrainerFailureException;
import io.kubetune.trainer.data.ChatTemplate;
import io.kubetune.trainer.data.ChatTemplateException;
import io.kubetune.trainer.data.ModelTokenizer;
import io.kubetune.trainer.model.GenerationConfig;
import io.kubetune.trainer.model.Generator;
import io.kubetune.trainer.model.HfTokenizer;
import io.kubetune.trainer.model.LlamaModel;
import io.kubetune.trainer.model.ModelConfigException;
import java.io.IOException;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** {@code generate}: greedy or sampled continuation with the base model or base + adapter. */
public final class ModelGeneration implements Generation {
  /** End-of-turn markers of common chat templates; a chat reply stops at any of them. */
  static final List<String> END_OF_TURN = List.of("<|im_end|>", "<|eot_id|>", "<|end|>");

  @Override
  public String generate(GenerationRequest r) {
    try (NDManager manager = NDManager.newBaseManager();
        LlamaModel model = Models.load(r.modelDir(), manager);
        HfTokenizer tokenizer = loadTokenizer(r)) {
      if (r.adapterDir() != null) {
        Models.loadAdapter(r.adapterDir(), model, manager);
      }
      Set<Integer> stop = new HashSet<>(model.stopTokenIds());
      tokenizer.eosTokenId().ifPresent(stop::add);
      int[] prompt;
      if (r.chat()) {
        prompt = tokenizer.encode(renderChat(r), false);
        for (String marker : END_OF_TURN) {
          tokenizer.tokenId(marker).ifPresent(stop::add);
        }
      } else {
        prompt = tokenizer.encode(r.prompt());
      }
      if (prompt.length == 0) {
        throw ConfigException.of(
            "--prompt", "encodes to no tokens", "pass a prompt the model's tokenizer can encode");
      }
      GenerationConfig gen =
          (r.temperature() == 0
                  ? GenerationConfig.greedy(r.maxNewTokens())
                  : GenerationConfig.sampling(
                      r.maxNewTokens(), (float) r.temperature(), (float) r.topP(), r.seed()))
              .withEosTokenIds(stop);
      int[] ids = Generator.generate(model, prompt, gen);
      return tokenizer.decode(ids, true);
    }
  }

  private static HfTokenizer loadTokenizer(GenerationRequest r) {
    try {
      return HfTokenizer.load(r.modelDir());
    } catch (ModelConfigException e) {
      throw new TrainerFailureException(
          FailureReason.MODEL_INVALID, "tokenizer of " + r.modelDir() + ": " + e.getMessage(), e);
    }
  }

  /** The prompt as a one-turn conversation, rendered as training renders chat data. */
  private static String renderChat(GenerationRequest r) {
    try (ModelTokenizer t = ModelTokenizer.load(r.modelDir())) {
      ChatTemplate template = ChatTemplate.of(t.chatTemplate(), t.specialTokens());
      return template.render(
          List.of(Map.<String, Object>of("role", "user", "content", r.prompt())), true);
    } catch (ChatTemplateException e) {
      throw ConfigException.of(
          "--chat", "the model's chat template failed: " + e.getMessage(), "run without --chat");
    } catch (IOException e) {
      throw new TrainerFailureException(
          FailureReason.MODEL_INVALID, "tokenizer of " + r.modelDir() + ": " + e.getMessage(), e);
    }
  }
}
