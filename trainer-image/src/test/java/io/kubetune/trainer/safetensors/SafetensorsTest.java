package io.kubetune.trainer.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsTest {

  @TempDir Path dir;

  private static float[] randoms(int n, long seed) {
    Random r = new Random(seed);
    float[] v = new float[n];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) r.nextGaussian() * 3;
    }
    return v;
  }

  @Test
  void roundTripKeepsF32ExactlyAndRoundsHalvesToNearest() throws IOException {
    float[] a = randoms(12, 1);
    float[] b = randoms(30, 2);
    float[] c = randoms(7, 3);
    Path file = dir.resolve("w.safetensors");
    new SafetensorsWriter()
        .metadata("origin", "test")
        .add("z.weight", new long[] {3, 4}, a, DType.F32)
        .add("a.weight", new long[] {5, 6}, b, DType.F16)
        .add("m.weight", new long[] {7}, c, DType.BF16)
        .write(file);

    try (SafetensorsFile f = SafetensorsFile.open(file)) {
      assertEquals(Map.of("format", "pt", "origin", "test"), f.metadata());
      assertEquals(List.of("a.weight", "m.weight", "z.weight"), List.copyOf(f.tensors().keySet()));
      assertArrayEquals(a, f.readFloats("z.weight"));
      assertArrayEquals(new long[] {5, 6}, f.info("a.weight").shape());
      float[] halves = f.readFloats("a.weight");
      float[] bf16 = f.readFloats("m.weight");
      for (int i = 0; i < b.length; i++) {
        assertEquals(HalfFloats.halfToFloat(HalfFloats.floatToHalf(b[i])), halves[i]);
        assertTrue(Math.abs(halves[i] - b[i]) <= Math.abs(b[i]) * 0x1p-11f);
      }
      for (int i = 0; i < c.length; i++) {
        assertTrue(Math.abs(bf16[i] - c[i]) <= Math.abs(c[i]) * 0x1p-8f);
      }
    }
  }

  @Test
  void headerIsPaddedWithSpacesToEightBytesAndDataIsContiguous() throws IOException {
    Path file = dir.resolve("p.safetensors");
    new SafetensorsWriter()
        .add("x", new long[] {3}, new float[] {1, 2, 3}, DType.F32)
        .add("y", new long[] {1}, new float[] {4}, DType.F16)
        .write(file);
    byte[] bytes = Files.readAllBytes(file);
    long headerLen = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    assertEquals(0, headerLen % 8);
    String header = new String(bytes, 8, (int) headerLen, StandardCharsets.UTF_8);
    assertTrue(header.startsWith("{\"__metadata__\":{\"format\":\"pt\"}"), header);
    assertTrue(header.stripTrailing().endsWith("}"), header);
    assertEquals(8 + headerLen + 3 * 4 + 2, bytes.length);
  }

  @Test
  void ndArraysRoundTripIncludingTransposedViewsAndHalfOutput() throws IOException {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray m = manager.create(randoms(6, 4), new Shape(2, 3));
      NDArray t = m.transpose();
      Path file = dir.resolve("nd.safetensors");
      new SafetensorsWriter()
          .add("m", m, DType.F32)
          .add("t", t, DType.F32)
          .add("h", m, DType.F16)
          .write(file);
      try (SafetensorsFile f = SafetensorsFile.open(file)) {
        NDArray back = f.loadFloat32(manager, "t");
        assertEquals(new Shape(3, 2), back.getShape());
        assertArrayEquals(t.toFloatArray(), back.toFloatArray());
        NDArray half = f.load(manager, "h");
        assertEquals(DataType.FLOAT16, half.getDataType());
        float[] expected = m.toFloatArray();
        float[] got = f.readFloats("h");
        for (int i = 0; i < expected.length; i++) {
          assertEquals(HalfFloats.halfToFloat(HalfFloats.floatToHalf(expected[i])), got[i]);
        }
      }
    }
  }

  @Test
  void loadingInStagingChunksAssemblesTheWholeTensor() throws IOException {
    float[] v = randoms(30, 9);
    Path file = dir.resolve("chunks.safetensors");
    new SafetensorsWriter()
        .add("f32", new long[] {5, 6}, v, DType.F32)
        .add("bf16", new long[] {5, 6}, v, DType.BF16)
        .add("scalar", new long[] {}, new float[] {2.5f}, DType.F32)
        .add("empty", new long[] {0, 3}, new float[0], DType.F32)
        .write(file);
    try (NDManager manager = NDManager.newBaseManager();
        SafetensorsFile f = SafetensorsFile.open(file)) {
      for (String name : List.of("f32", "bf16")) {
        NDArray a = f.loadFloat32(manager, name, 7);
        assertEquals(new Shape(5, 6), a.getShape());
        assertArrayEquals(f.readFloats(name), a.toFloatArray(), name);
        // The staging buffer is reused: an earlier array must not change under a later load.
        NDArray again = f.loadFloat32(manager, "f32", 7);
        assertArrayEquals(f.readFloats(name), a.toFloatArray(), name);
        assertArrayEquals(v, again.toFloatArray());
      }
      assertEquals(2.5f, f.loadFloat32(manager, "scalar").getFloat());
      assertEquals(new Shape(0, 3), f.loadFloat32(manager, "empty").getShape());
    }
  }

  @Test
  void everyHalfBitPatternSurvivesWideningAndNarrowing() {
    for (int h = 0; h < 0x10000; h++) {
      float f = HalfFloats.halfToFloat((short) h);
      if (Float.isNaN(f)) {
        assertTrue(Float.isNaN(HalfFloats.halfToFloat(HalfFloats.floatToHalf(f))));
        continue;
      }
      assertEquals((short) h, HalfFloats.floatToHalf(f), "half bits " + Integer.toHexString(h));
    }
    // Ties go to even, overflow to infinity, underflow to zero.
    assertEquals(1.0f, HalfFloats.halfToFloat(HalfFloats.floatToHalf(1.0f + 0x1p-11f)));
    assertEquals(
        1.0f + 0x1p-9f, HalfFloats.halfToFloat(HalfFloats.floatToHalf(1.0f + 0x1p-10f + 0x1p-11f)));
    assertEquals(Float.POSITIVE_INFINITY, HalfFloats.halfToFloat(HalfFloats.floatToHalf(65520f)));
    assertEquals(0x1p-24f, HalfFloats.halfToFloat(HalfFloats.floatToHalf(0x1.8p-25f)));
    assertEquals(0f, HalfFloats.halfToFloat(HalfFloats.floatToHalf(0x1p-26f)));
    assertEquals(1.0f, HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(1.0f + 0x1p-8f)));
  }

  @Test
  void shardedCheckpointsResolveThroughTheIndex() throws IOException {
    new SafetensorsWriter()
        .add("a", new long[] {2}, new float[] {1, 2}, DType.F32)
        .write(dir.resolve("model-00001-of-00002.safetensors"));
    new SafetensorsWriter()
        .add("b", new long[] {1}, new float[] {3}, DType.BF16)
        .write(dir.resolve("model-00002-of-00002.safetensors"));
    Files.writeString(
        dir.resolve(SafetensorsCheckpoint.INDEX_FILE),
        "{\"metadata\":{\"total_size\":10},\"weight_map\":{"
            + "\"a\":\"model-00001-of-00002.safetensors\","
            + "\"b\":\"model-00002-of-00002.safetensors\"}}");
    try (SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(dir)) {
      assertEquals(List.of("a", "b"), List.copyOf(ckpt.names()));
      assertArrayEquals(new float[] {1, 2}, ckpt.readFloats("a"));
      assertArrayEquals(new float[] {3}, ckpt.readFloats("b"));
      assertEquals(DType.BF16, ckpt.info("b").dtype());
    }
  }

  @Test
  void missingShardIsNamedWithTheTensorItHolds() throws IOException {
    Files.writeString(
        dir.resolve(SafetensorsCheckpoint.INDEX_FILE),
        "{\"weight_map\":{\"lm_head.weight\":\"model-00002-of-00002.safetensors\"}}");
    SafetensorsException e =
        assertThrows(SafetensorsException.class, () -> SafetensorsCheckpoint.open(dir));
    assertTrue(e.getMessage().contains("model-00002-of-00002.safetensors"), e.getMessage());
    assertTrue(e.getMessage().contains("lm_head.weight"), e.getMessage());
  }

  @Test
  void folderWithoutWeightsSaysWhatIsMissing() {
    SafetensorsException e =
        assertThrows(SafetensorsException.class, () -> SafetensorsCheckpoint.open(dir));
    assertTrue(e.getMessage().contains("model.safetensors"), e.getMessage());
  }

  private Path rawFile(String header, int dataBytes) throws IOException {
    byte[] json = header.getBytes(StandardCharsets.UTF_8);
    ByteBuffer buf =
        ByteBuffer.allocate(8 + json.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
    buf.putLong(json.length).put(json);
    Path file = dir.resolve("corrupt.safetensors");
    Files.write(file, buf.array());
    return file;
  }

  private static String openError(Path file) {
    return assertThrows(SafetensorsException.class, () -> SafetensorsFile.open(file).close())
        .getMessage();
  }

  @Test
  void corruptHeadersAreReportedWithFileAndTensor() throws IOException {
    String outside =
        openError(
            rawFile("{\"w.weight\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8));
    assertTrue(outside.contains("corrupt.safetensors") && outside.contains("'w.weight'"), outside);
    assertTrue(outside.contains("outside"), outside);

    String size =
        openError(
            rawFile("{\"w.weight\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8));
    assertTrue(size.contains("'w.weight'") && size.contains("needs 12"), size);

    String overlap =
        openError(
            rawFile(
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                    + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
                12));
    assertTrue(overlap.contains("overlaps"), overlap);

    String dtype =
        openError(
            rawFile("{\"q\":{\"dtype\":\"F8_E4M3\",\"shape\":[2],\"data_offsets\":[0,2]}}", 2));
    assertTrue(dtype.contains("'q'") && dtype.contains("F8_E4M3"), dtype);

    assertTrue(openError(rawFile("{not json", 0)).contains("not valid JSON"));
  }

  @Test
  void headerLengthBeyondTheFileIsRejectedBeforeAllocating() throws IOException {
    Path file = dir.resolve("short.safetensors");
    ByteBuffer buf = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
    buf.putLong(Long.MAX_VALUE).putLong(0);
    Files.write(file, buf.array());
    String message = openError(file);
    assertTrue(message.contains("short.safetensors") && message.contains("header length"), message);
    Files.write(file, new byte[3]);
    assertTrue(openError(file).contains("shorter than"));
  }

  @Test
  void tensorsBeyondTwoGibibytesAreMappedPerTensor() throws IOException {
    // A sparse file: the tensor sits past the 2 GiB mark without writing 2 GiB to disk.
    long far = (1L << 31) + 64;
    String header =
        "{\"near\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
            + "\"far\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":["
            + far
            + ","
            + (far + 4)
            + "]}}";
    byte[] json = header.getBytes(StandardCharsets.UTF_8);
    Path file = dir.resolve("big.safetensors");
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
      ByteBuffer head = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(json.length);
      raf.write(head.array());
      raf.write(json);
      long dataStart = 8 + json.length;
      raf.seek(dataStart);
      raf.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(7f).array());
      raf.seek(dataStart + far);
      ByteBuffer bf = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
      bf.putShort(HalfFloats.floatToBf16(1.5f)).putShort(HalfFloats.floatToBf16(-2f));
      raf.write(bf.array());
    }
    try (SafetensorsFile f = SafetensorsFile.open(file)) {
      assertArrayEquals(new float[] {7f}, f.readFloats("near"));
      assertArrayEquals(new float[] {1.5f, -2f}, f.readFloats("far"));
    }
  }
}
