package io.kubetune.trainer.full;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kubetune.trainer.model.LlamaConfig;

/** Writes a {@link LlamaConfig} back as a transformers {@code config.json} object. */
final class LlamaConfigs {

  private LlamaConfigs() {}

  /**
   * The fields transformers' {@code LlamaConfig} reads; rope scaling other than {@code default} is
   * refused because a folder without it would silently change the model.
   */
  static ObjectNode toJson(LlamaConfig c) {
    if (!"default".equals(c.ropeScaling().type())) {
      throw new IllegalArgumentException(
          "cannot write config.json for rope scaling '"
              + c.ropeScaling().type()
              + "' without a source config.json; export with setSource(<base model folder>)");
    }
    ObjectNode o = new ObjectMapper().createObjectNode();
    o.putArray("architectures").add("LlamaForCausalLM");
    o.put("model_type", "llama");
    o.put("vocab_size", c.vocabSize());
    o.put("hidden_size", c.hiddenSize());
    o.put("intermediate_size", c.intermediateSize());
    o.put("num_hidden_layers", c.numHiddenLayers());
    o.put("num_attention_heads", c.numAttentionHeads());
    o.put("num_key_value_heads", c.numKeyValueHeads());
    o.put("head_dim", c.headDim());
    o.put("hidden_act", "silu");
    o.put("rms_norm_eps", c.rmsNormEps());
    o.put("rope_theta", c.ropeTheta());
    o.put("max_position_embeddings", c.maxPositionEmbeddings());
    o.put("tie_word_embeddings", c.tieWordEmbeddings());
    o.put("attention_bias", c.attentionBias());
    o.put("mlp_bias", c.mlpBias());
    if (c.bosTokenId() != null) {
      o.put("bos_token_id", c.bosTokenId());
    }
    if (c.eosTokenIds().size() == 1) {
      o.put("eos_token_id", c.eosTokenIds().get(0));
    } else if (!c.eosTokenIds().isEmpty()) {
      ArrayNode eos = o.putArray("eos_token_id");
      c.eosTokenIds().forEach(eos::add);
    }
    if (c.padTokenId() != null) {
      o.put("pad_token_id", c.padTokenId());
    }
    return o;
  }
}
