package io.kubetune.trainer.data;

import io.kubetune.contract.DatasetErrorCode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Turns parsed examples into token ids and labels, the way HF transformers would.
 *
 * <ul>
 *   <li>chat: the conversation rendered by the chat template and tokenized without adding special
 *       tokens (as {@code apply_chat_template(tokenize=True)}; the template writes BOS itself, so
 *       there is never a double BOS). Labels cover every assistant turn: the text the template
 *       renders for that message after the generation prompt, including the end-of-turn token,
 *       without trailing whitespace (e.g. ChatML's newline after {@code <|im_end|>}).
 *   <li>instruction/completion: {@code tokenizer(prompt + completion)} (BOS/EOS as the tokenizer
 *       adds them) with EOS appended when it does not end with one; labels on the tokens of the
 *       completion and the EOS.
 *   <li>text: {@code tokenizer(text)}, labels on all tokens.
 * </ul>
 *
 * <p>Assistant and completion spans are located in characters and mapped to tokens through the
 * tokenizer's offsets (a token is labeled when its text overlaps the span), as transformers does
 * for {@code return_assistant_tokens_mask}; the whole text is tokenized at once, so no token
 * boundary differs from the reference.
 */
final class ExampleEncoder {
  private final ModelTokenizer tokenizer;
  private final ChatTemplate template;

  ExampleEncoder(ModelTokenizer tokenizer, ChatTemplate template) {
    this.tokenizer = tokenizer;
    this.template = template;
  }

  TokenizedExample encode(Example example) throws DatasetProblem {
    return switch (example.layout()) {
      case CHAT -> chat(example.messages());
      case TEXT -> text(example.text());
      default -> instruction(example.prompt(), example.completion());
    };
  }

  private TokenizedExample chat(List<Map<String, Object>> messages) throws DatasetProblem {
    String full = render(messages, false);
    List<int[]> spans = new ArrayList<>();
    for (int i = 0; i < messages.size(); i++) {
      if (!"assistant".equals(messages.get(i).get("role"))) {
        continue;
      }
      String before = render(messages.subList(0, i), true);
      String through = i + 1 == messages.size() ? full : render(messages.subList(0, i + 1), false);
      if (!through.startsWith(before) || !full.startsWith(through)) {
        throw new DatasetProblem(
            DatasetErrorCode.TEMPLATE_ERROR,
            "the chat template renders messages[0.."
                + i
                + "] differently when later turns follow, so the assistant tokens of messages["
                + i
                + "] cannot be located");
      }
      int end = through.length();
      while (end > before.length() && PyStrings.isSpace(through.codePointBefore(end))) {
        end -= Character.charCount(through.codePointBefore(end));
      }
      if (end == before.length()) {
        // Training on it would silently learn nothing from this turn.
        throw new DatasetProblem(
            DatasetErrorCode.TEMPLATE_ERROR,
            "the chat template renders nothing for the assistant turn messages[" + i + "]");
      }
      spans.add(new int[] {full.codePointCount(0, before.length()), full.codePointCount(0, end)});
    }
    ModelTokenizer.Tokens tokens = tokenizer.encode(full);
    int[] ids = tokens.ids();
    int[] labels = new int[ids.length];
    for (int t = 0; t < ids.length; t++) {
      labels[t] = TokenizedExample.IGNORE;
      for (int[] span : spans) {
        if (tokens.overlaps(t, span[0], span[1])) {
          labels[t] = ids[t];
          break;
        }
      }
    }
    return new TokenizedExample(ids, labels);
  }

  private String render(List<Map<String, Object>> messages, boolean addGenerationPrompt)
      throws DatasetProblem {
    try {
      return template.render(messages, addGenerationPrompt);
    } catch (ChatTemplateException e) {
      throw new DatasetProblem(DatasetErrorCode.TEMPLATE_ERROR, e.getMessage());
    }
  }

  private TokenizedExample instruction(String prompt, String completion) {
    String text = prompt + completion;
    int from = text.codePointCount(0, prompt.length());
    int to = text.codePointCount(0, text.length());
    return withSpecialTokens(tokenizer.encode(text), from, to, true);
  }

  private TokenizedExample text(String text) {
    return withSpecialTokens(tokenizer.encode(text), 0, Integer.MAX_VALUE, false);
  }

  /** Adds the tokenizer's BOS/EOS and labels the tokens overlapping [from, to). */
  private TokenizedExample withSpecialTokens(
      ModelTokenizer.Tokens tokens, int from, int to, boolean forceEos) {
    int[] prefix = tokenizer.prefix();
    int[] suffix = tokenizer.suffix();
    int eos = tokenizer.eosId();
    boolean appendEos = forceEos && eos >= 0 && !endsWith(tokens.ids(), suffix, eos);
    int n = prefix.length + tokens.ids().length + suffix.length + (appendEos ? 1 : 0);
    int[] ids = new int[n];
    int[] labels = new int[n];
    int k = 0;
    boolean labelAll = to == Integer.MAX_VALUE;
    for (int id : prefix) {
      ids[k] = id;
      labels[k++] = labelAll ? id : TokenizedExample.IGNORE;
    }
    for (int t = 0; t < tokens.ids().length; t++) {
      int id = tokens.ids()[t];
      ids[k] = id;
      labels[k++] = labelAll || tokens.overlaps(t, from, to) ? id : TokenizedExample.IGNORE;
    }
    // The tokenizer's suffix ends the learned text (an EOS the model must learn to emit).
    for (int id : suffix) {
      ids[k] = id;
      labels[k++] = id;
    }
    if (appendEos) {
      ids[k] = eos;
      labels[k] = eos;
    }
    return new TokenizedExample(ids, labels);
  }

  private static boolean endsWith(int[] body, int[] suffix, int eos) {
    if (suffix.length > 0) {
      return suffix[suffix.length - 1] == eos;
    }
    return body.length > 0 && body[body.length - 1] == eos;
  }
}
