package io.kubetune.trainer.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kubetune.trainer.testing.PythonReference;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Our safetensors files against the reference {@code safetensors} package, bit for bit. */
class SafetensorsInteropTest {

  private static final Duration TIMEOUT = Duration.ofMinutes(3);

  @TempDir Path dir;

  /** Bit patterns with every NaN made canonical: NaN payloads carry no meaning in weights. */
  private static int[] bits(JsonNode node) {
    int[] out = new int[node.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = Float.floatToIntBits(Float.intBitsToFloat(node.get(i).asInt()));
    }
    return out;
  }

  private static int[] bits(float[] values) {
    int[] out = new int[values.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = Float.floatToIntBits(values[i]);
    }
    return out;
  }

  @Test
  void pythonReadsOurFilesAndAgreesWithOurHalfRounding() throws IOException {
    Random r = new Random(7);
    float[] src = new float[400];
    for (int i = 0; i < src.length; i++) {
      // Spread over many binades, including f16 subnormals and overflow.
      src[i] = (float) (r.nextGaussian() * Math.pow(2, r.nextInt(60) - 30));
    }
    float[] special = {
      0f,
      -0f,
      1f + 0x1p-11f,
      1f + 0x1.8p-10f,
      65519f,
      65520f,
      0x1p-25f,
      0x1.8p-25f,
      1e-40f,
      Float.POSITIVE_INFINITY,
      Float.NEGATIVE_INFINITY,
      Float.NaN,
      1f + 0x1p-8f,
      3.4e38f
    };
    Path file = dir.resolve("ours.safetensors");
    new SafetensorsWriter()
        .metadata("note", "from java")
        .add("g.src", new long[] {20, 20}, src, DType.F32)
        .add("g.f16", new long[] {20, 20}, src, DType.F16)
        .add("g.bf16", new long[] {20, 20}, src, DType.BF16)
        .add("s.src", new long[] {special.length}, special, DType.F32)
        .add("s.f16", new long[] {special.length}, special, DType.F16)
        .add("s.bf16", new long[] {special.length}, special, DType.BF16)
        .write(file);

    JsonNode out =
        new ObjectMapper()
            .readTree(PythonReference.runOk("model_safetensors.py", TIMEOUT, "check", "" + file));
    assertEquals(Map.of("format", "pt", "note", "from java"), toMap(out.get("metadata")));
    assertEquals(0, out.get("header_len").asLong() % 8);
    JsonNode tensors = out.get("tensors");
    assertEquals(6, tensors.size());
    assertArrayEquals(bits(src), bits(tensors.get("g.src").get("bits")));
    assertArrayEquals(bits(special), bits(tensors.get("s.src").get("bits")));
    for (String name : List.of("g.f16", "g.bf16", "s.f16", "s.bf16")) {
      assertEquals(0, tensors.get(name).get("rounding_mismatches").asInt(), name);
    }
    assertEquals("float16", tensors.get("g.f16").get("dtype").asText());
    assertEquals("bfloat16", tensors.get("g.bf16").get("dtype").asText());
    assertEquals(List.of(20, 20), toIntList(tensors.get("g.bf16").get("shape")));
  }

  @Test
  void weReadPythonFilesExactly() throws IOException {
    Path file = dir.resolve("theirs.safetensors");
    JsonNode expected =
        new ObjectMapper()
            .readTree(PythonReference.runOk("model_safetensors.py", TIMEOUT, "make", "" + file));
    try (SafetensorsFile f = SafetensorsFile.open(file)) {
      assertEquals("python", f.metadata().get("origin"));
      assertEquals(expected.size(), f.tensors().size());
      for (Map.Entry<String, JsonNode> e : expected.properties()) {
        String name = e.getKey();
        TensorInfo info = f.info(name);
        assertEquals(
            toIntList(e.getValue().get("shape")),
            java.util.Arrays.stream(info.shape()).mapToInt(x -> (int) x).boxed().toList(),
            name);
        String dtype = e.getValue().get("dtype").asText();
        DType want =
            switch (dtype) {
              case "float32" -> DType.F32;
              case "float16" -> DType.F16;
              case "bfloat16" -> DType.BF16;
              default -> throw new AssertionError(dtype);
            };
        assertEquals(want, info.dtype(), name);
        assertArrayEquals(bits(e.getValue().get("bits")), bits(f.readFloats(name)), name);
      }
    }
  }

  private static Map<String, String> toMap(JsonNode node) {
    java.util.Map<String, String> m = new java.util.HashMap<>();
    node.properties().forEach(e -> m.put(e.getKey(), e.getValue().asText()));
    return m;
  }

  private static List<Integer> toIntList(JsonNode node) {
    java.util.List<Integer> l = new java.util.ArrayList<>();
    node.forEach(n -> l.add(n.asInt()));
    return l;
  }
}
