package io.kubetune.trainer.safetensors;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes a safetensors file the way {@code safetensors.torch.save_file} does: {@code __metadata__}
 * with {@code format: pt}, tensors sorted by name and laid out contiguously, header padded with
 * spaces to a multiple of 8 bytes.
 *
 * <p>Tensors are kept by reference until {@link #write}, which streams them to a temporary file and
 * renames it into place, so readers never see a half-written file.
 *
 * <pre>{@code
 * new SafetensorsWriter().add("lm_head.weight", weight, DType.F32).write(dir.resolve("x.safetensors"));
 * }</pre>
 */
public final class SafetensorsWriter {

  private static final ObjectMapper JSON = new ObjectMapper();

  private final Map<String, String> metadata = new LinkedHashMap<>();
  private final Map<String, Entry> entries = new TreeMap<>();

  /** Creates a writer whose metadata is {@code {"format": "pt"}}. */
  public SafetensorsWriter() {
    metadata.put("format", "pt");
  }

  /** Adds or replaces a {@code __metadata__} entry. */
  public SafetensorsWriter metadata(String key, String value) {
    metadata.put(key, value);
    return this;
  }

  /**
   * Adds an f32 tensor from a row-major Java array (not copied: do not modify it before writing).
   *
   * @param dtype {@link DType#F32}, {@link DType#F16} or {@link DType#BF16} (rounded to nearest
   *     even)
   */
  public SafetensorsWriter add(String name, long[] shape, float[] data, DType dtype) {
    requireFloatOut(name, dtype);
    long numel = TensorInfo.numel(shape);
    if (numel != data.length) {
      throw new IllegalArgumentException(
          "tensor '"
              + name
              + "': shape "
              + Arrays.toString(shape)
              + " needs "
              + numel
              + " values, got "
              + data.length);
    }
    entries.put(name, new Entry(dtype, shape.clone(), data, null));
    return this;
  }

  /**
   * Adds an f32 tensor in {@code dtype} ({@link DType#F32} or {@link DType#F16}); the array is read
   * at {@link #write} time and must stay open until then.
   */
  public SafetensorsWriter add(String name, NDArray array, DType dtype) {
    if (dtype != DType.F32 && dtype != DType.F16) {
      throw new IllegalArgumentException(
          "tensor '" + name + "': NDArrays are written as F32 or F16, not " + dtype);
    }
    entries.put(name, new Entry(dtype, array.getShape().getShape(), null, array));
    return this;
  }

  /**
   * Writes all added tensors to {@code path}, replacing any existing file atomically.
   *
   * @throws IOException when the file cannot be written
   */
  public void write(Path path) throws IOException {
    ObjectNode header = JSON.createObjectNode();
    ObjectNode meta = header.putObject("__metadata__");
    metadata.forEach(meta::put);
    long offset = 0;
    for (Map.Entry<String, Entry> e : entries.entrySet()) {
      Entry entry = e.getValue();
      long bytes = TensorInfo.numel(entry.shape) * entry.dtype.byteSize();
      ObjectNode t = header.putObject(e.getKey());
      t.put("dtype", entry.dtype.name());
      ArrayNode shape = t.putArray("shape");
      for (long d : entry.shape) {
        shape.add(d);
      }
      t.putArray("data_offsets").add(offset).add(offset + bytes);
      offset += bytes;
    }
    byte[] json = JSON.writeValueAsBytes(header);
    int padded = (json.length + 7) / 8 * 8;
    ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
    head.putLong(padded).put(json);
    while (head.hasRemaining()) {
      head.put((byte) ' ');
    }
    head.flip();

    Path parent = path.toAbsolutePath().getParent();
    Files.createDirectories(parent);
    Path tmp = Files.createTempFile(parent, path.getFileName().toString(), ".tmp");
    try {
      try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        writeFully(out, head);
        for (Map.Entry<String, Entry> e : entries.entrySet()) {
          writeTensor(out, e.getKey(), e.getValue());
        }
        out.force(true);
      }
      Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  private static void writeTensor(FileChannel out, String name, Entry entry) throws IOException {
    if (entry.floats != null) {
      writeFloats(out, entry.floats, entry.dtype);
      return;
    }
    NDArray src = entry.array;
    DataType target = entry.dtype == DType.F16 ? DataType.FLOAT16 : DataType.FLOAT32;
    if (src.getDataType() != DataType.FLOAT32
        && src.getDataType() != DataType.FLOAT16
        && src.getDataType() != DataType.FLOAT64) {
      throw new IOException(
          "tensor '" + name + "' is " + src.getDataType() + ", only float arrays can be written");
    }
    ByteBuffer data;
    if (src.getDataType() == target) {
      data = src.toByteBuffer();
    } else {
      try (NDArray converted = src.toType(target, true)) {
        data = converted.toByteBuffer();
      }
    }
    // DJL hands out native-order buffers; safetensors is little-endian, as are DJL's hosts.
    writeFully(out, data.order(ByteOrder.LITTLE_ENDIAN));
  }

  private static void writeFloats(FileChannel out, float[] data, DType dtype) throws IOException {
    int chunk = 1 << 20;
    ByteBuffer buf =
        ByteBuffer.allocateDirect(chunk * dtype.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
    for (int start = 0; start < data.length; start += chunk) {
      int end = Math.min(data.length, start + chunk);
      buf.clear();
      for (int i = start; i < end; i++) {
        switch (dtype) {
          case F32 -> buf.putFloat(data[i]);
          case F16 -> buf.putShort(HalfFloats.floatToHalf(data[i]));
          case BF16 -> buf.putShort(HalfFloats.floatToBf16(data[i]));
          default -> throw new IllegalStateException("unreachable: " + dtype);
        }
      }
      buf.flip();
      writeFully(out, buf);
    }
  }

  private static void writeFully(FileChannel out, ByteBuffer buf) throws IOException {
    while (buf.hasRemaining()) {
      out.write(buf);
    }
  }

  private static void requireFloatOut(String name, DType dtype) {
    if (dtype != DType.F32 && dtype != DType.F16 && dtype != DType.BF16) {
      throw new IllegalArgumentException(
          "tensor '" + name + "': float data is written as F32, F16 or BF16, not " + dtype);
    }
  }

  private record Entry(DType dtype, long[] shape, float[] floats, NDArray array) {}
}
