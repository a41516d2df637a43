package io.kubetune.trainer.safetensors;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One safetensors file opened for reading.
 *
 * <p>Only the header is read at open; each tensor is read when it is loaded, a small buffer at a
 * time, so files larger than 2 GiB work and nothing holds the whole file in a {@code byte[]}.
 * Floating-point tensors are widened to f32 in Java (bf16 cannot exist as a DJL PyTorch array).
 * Loading does not memory-map: mapped pages stay resident, and count in the process RSS next to the
 * copy in native memory, until a garbage collection happens to unmap them.
 */
public final class SafetensorsFile implements AutoCloseable {

  /** The reference implementation refuses headers above 100 MB; so do we, before allocating. */
  static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;

  /** Bytes read from the file at once while converting to f32. */
  private static final int READ_BYTES = 1 << 20;

  private static final ThreadLocal<ByteBuffer> READ_BUFFER =
      ThreadLocal.withInitial(
          () -> ByteBuffer.allocateDirect(READ_BYTES).order(ByteOrder.LITTLE_ENDIAN));

  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path path;
  private final FileChannel channel;
  private final long dataStart;
  private final Map<String, TensorInfo> tensors;
  private final Map<String, String> metadata;

  private SafetensorsFile(
      Path path,
      FileChannel channel,
      long dataStart,
      Map<String, TensorInfo> tensors,
      Map<String, String> metadata) {
    this.path = path;
    this.channel = channel;
    this.dataStart = dataStart;
    this.tensors = tensors;
    this.metadata = metadata;
  }

  /**
   * Opens a file and validates its header (sizes, dtypes, offsets inside the file, no overlaps).
   *
   * @throws SafetensorsException when the file is missing or corrupt; the message names the file
   *     and the offending tensor
   */
  public static SafetensorsFile open(Path path) throws SafetensorsException {
    FileChannel channel;
    try {
      channel = FileChannel.open(path, StandardOpenOption.READ);
    } catch (NoSuchFileException e) {
      throw new SafetensorsException(path + ": file not found", e);
    } catch (IOException e) {
      throw new SafetensorsException(path + ": cannot open: " + e.getMessage(), e);
    }
    try {
      return parse(path, channel);
    } catch (SafetensorsException | RuntimeException e) {
      closeQuietly(channel);
      throw e;
    } catch (IOException e) {
      closeQuietly(channel);
      throw new SafetensorsException(path + ": cannot read header: " + e.getMessage(), e);
    }
  }

  private static SafetensorsFile parse(Path path, FileChannel channel) throws IOException {
    long fileSize = channel.size();
    if (fileSize < 8) {
      throw corrupt(path, "file has " + fileSize + " bytes, shorter than the 8-byte header length");
    }
    ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    readFully(channel, lenBuf, 0);
    long headerLen = lenBuf.flip().getLong();
    if (headerLen < 2 || headerLen > MAX_HEADER_BYTES || headerLen > fileSize - 8) {
      throw corrupt(
          path,
          "header length "
              + Long.toUnsignedString(headerLen)
              + " does not fit a file of "
              + fileSize
              + " bytes (limit "
              + MAX_HEADER_BYTES
              + ")");
    }
    ByteBuffer headerBuf = ByteBuffer.allocate((int) headerLen);
    readFully(channel, headerBuf, 8);
    String headerText = new String(headerBuf.array(), StandardCharsets.UTF_8);
    JsonNode root;
    try {
      root = JSON.readTree(headerText);
    } catch (JsonProcessingException e) {
      throw corrupt(path, "header is not valid JSON: " + e.getOriginalMessage());
    }
    if (root == null || !root.isObject()) {
      throw corrupt(path, "header is not a JSON object");
    }
    long dataStart = 8 + headerLen;
    long dataLen = fileSize - dataStart;
    Map<String, String> metadata = new LinkedHashMap<>();
    Map<String, TensorInfo> tensors = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> field : root.properties()) {
      String name = field.getKey();
      JsonNode node = field.getValue();
      if ("__metadata__".equals(name)) {
        if (!node.isObject()) {
          throw corrupt(path, "__metadata__ must be an object of strings");
        }
        node.properties().forEach(m -> metadata.put(m.getKey(), m.getValue().asText()));
        continue;
      }
      tensors.put(name, parseTensor(path, name, node, dataLen));
    }
    checkNoOverlap(path, tensors);
    return new SafetensorsFile(
        path, channel, dataStart, Collections.unmodifiableMap(tensors), metadata);
  }

  private static TensorInfo parseTensor(Path path, String name, JsonNode node, long dataLen)
      throws SafetensorsException {
    if (!node.isObject()) {
      throw corruptTensor(path, name, "entry is not an object");
    }
    JsonNode dtypeNode = node.get("dtype");
    if (dtypeNode == null || !dtypeNode.isTextual()) {
      throw corruptTensor(path, name, "missing string field 'dtype'");
    }
    DType dtype = DType.parse(dtypeNode.asText());
    if (dtype == null) {
      throw new SafetensorsException(
          path
              + ": tensor '"
              + name
              + "' has dtype "
              + dtypeNode.asText()
              + ", which is not supported (use F32, F16 or BF16 weights)");
    }
    JsonNode shapeNode = node.get("shape");
    if (shapeNode == null || !shapeNode.isArray()) {
      throw corruptTensor(path, name, "missing array field 'shape'");
    }
    long[] shape = new long[shapeNode.size()];
    for (int i = 0; i < shape.length; i++) {
      JsonNode d = shapeNode.get(i);
      if (!d.canConvertToLong() || !d.isIntegralNumber() || d.asLong() < 0) {
        throw corruptTensor(path, name, "shape " + shapeNode + " is not a list of sizes");
      }
      shape[i] = d.asLong();
    }
    JsonNode offsets = node.get("data_offsets");
    if (offsets == null
        || !offsets.isArray()
        || offsets.size() != 2
        || !offsets.get(0).isIntegralNumber()
        || !offsets.get(1).isIntegralNumber()) {
      throw corruptTensor(path, name, "missing field 'data_offsets' [begin, end]");
    }
    long begin = offsets.get(0).asLong();
    long end = offsets.get(1).asLong();
    if (begin < 0 || end < begin || end > dataLen) {
      throw corruptTensor(
          path,
          name,
          "data_offsets ["
              + begin
              + ", "
              + end
              + "] lie outside the "
              + dataLen
              + "-byte data section (truncated file?)");
    }
    long expected;
    try {
      expected = Math.multiplyExact(TensorInfo.numel(shape), dtype.byteSize());
    } catch (ArithmeticException e) {
      throw corruptTensor(path, name, "shape " + shapeNode + " overflows");
    }
    if (end - begin != expected) {
      throw corruptTensor(
          path,
          name,
          "data_offsets span "
              + (end - begin)
              + " bytes but "
              + dtype
              + shapeNode
              + " needs "
              + expected);
    }
    return new TensorInfo(name, dtype, shape, begin, end);
  }

  private static void checkNoOverlap(Path path, Map<String, TensorInfo> tensors)
      throws SafetensorsException {
    List<TensorInfo> sorted = new ArrayList<>(tensors.values());
    sorted.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
    for (int i = 1; i < sorted.size(); i++) {
      TensorInfo prev = sorted.get(i - 1);
      TensorInfo cur = sorted.get(i);
      if (cur.begin() < prev.end()) {
        throw corruptTensor(
            path, cur.name(), "data overlaps tensor '" + prev.name() + "' (corrupt header)");
      }
    }
  }

  /** The file this was opened from. */
  public Path path() {
    return path;
  }

  /** Tensors in header order, by name. */
  public Map<String, TensorInfo> tensors() {
    return tensors;
  }

  /** The {@code __metadata__} entries (empty when absent). */
  public Map<String, String> metadata() {
    return Collections.unmodifiableMap(metadata);
  }

  /** Whether the file holds a tensor of this name. */
  public boolean contains(String name) {
    return tensors.containsKey(name);
  }

  /**
   * The header entry of a tensor.
   *
   * @throws SafetensorsException when the file has no such tensor
   */
  public TensorInfo info(String name) throws SafetensorsException {
    TensorInfo info = tensors.get(name);
    if (info == null) {
      throw new SafetensorsException(path + ": no tensor named '" + name + "'");
    }
    return info;
  }

  /**
   * Maps the raw little-endian bytes of a tensor (read-only).
   *
   * @throws SafetensorsException when the tensor is absent or larger than 2 GiB
   */
  public ByteBuffer rawBytes(String name) throws SafetensorsException {
    TensorInfo info = info(name);
    if (info.byteLength() > Integer.MAX_VALUE) {
      throw new SafetensorsException(
          path + ": tensor '" + name + "' is larger than 2 GiB; load it with loadFloat32");
    }
    return map(info, info.begin(), info.byteLength());
  }

  /**
   * Reads a floating-point tensor widened to f32, row-major.
   *
   * @throws SafetensorsException when the tensor is absent, not floating point, or has more than
   *     2^31 - 1 elements
   */
  public float[] readFloats(String name) throws SafetensorsException {
    TensorInfo info = info(name);
    requireFloat(info);
    if (info.numel() > Integer.MAX_VALUE - 8) {
      throw new SafetensorsException(
          path + ": tensor '" + name + "' has too many elements for a Java array");
    }
    float[] out = new float[(int) info.numel()];
    FloatBuffer dst = FloatBuffer.wrap(out);
    convertRange(info, 0, info.numel(), dst);
    return out;
  }

  /**
   * Reads an integer tensor (I64, I32, I16, I8, U8, BOOL) as longs.
   *
   * @throws SafetensorsException when the tensor is absent or floating point
   */
  public long[] readLongs(String name) throws SafetensorsException {
    TensorInfo info = info(name);
    if (info.dtype().isFloatingPoint() || info.numel() > Integer.MAX_VALUE - 8) {
      throw new SafetensorsException(
          path + ": tensor '" + name + "' is " + info.dtype() + ", not a small integer tensor");
    }
    ByteBuffer buf = map(info, info.begin(), info.byteLength());
    long[] out = new long[(int) info.numel()];
    for (int i = 0; i < out.length; i++) {
      out[i] =
          switch (info.dtype()) {
            case I64 -> buf.getLong();
            case I32 -> buf.getInt();
            case I16 -> buf.getShort();
            case I8 -> buf.get();
            case U8, BOOL -> buf.get() & 0xff;
            default -> throw new IllegalStateException("unreachable: " + info.dtype());
          };
    }
    return out;
  }

  /**
   * Loads a floating-point tensor as an f32 {@link NDArray} owned by {@code manager}.
   *
   * <p>The array's memory belongs to PyTorch. Values are staged through a small reused direct
   * buffer: handing DJL a buffer per tensor would make that Java direct memory the tensor's storage
   * (counted against {@code MaxDirectMemorySize}) and, for f32, would need the whole tensor in one
   * buffer, which cannot exceed 2 GiB.
   */
  public NDArray loadFloat32(NDManager manager, String name) throws SafetensorsException {
    return loadFloat32(manager, name, STAGING_FLOATS);
  }

  /** As {@link #loadFloat32(NDManager, String)}, staging {@code chunk} values at a time. */
  NDArray loadFloat32(NDManager manager, String name, int chunk) throws SafetensorsException {
    TensorInfo info = info(name);
    requireFloat(info);
    long numel = info.numel();
    NDArray target = manager.zeros(new Shape(info.shape()), DataType.FLOAT32);
    if (numel == 0) {
      return target;
    }
    ByteBuffer staging = staging(chunk);
    try (NDArray flat = target.reshape(numel)) {
      for (long start = 0; start < numel; start += chunk) {
        int n = (int) Math.min(chunk, numel - start);
        staging.clear();
        FloatBuffer dst = staging.asFloatBuffer();
        convertRange(info, start, n, dst);
        staging.limit(n * 4);
        ByteBuffer slice = staging.slice().order(ByteOrder.nativeOrder());
        try (NDArray part = manager.create(slice, new Shape(n), DataType.FLOAT32)) {
          // Copies into PyTorch-owned storage; the view shares it with the returned array.
          flat.set(new NDIndex("{}:{}", start, start + n), part);
        }
      }
    }
    return target;
  }

  private static final int STAGING_FLOATS = 1 << 20;

  private static final ThreadLocal<ByteBuffer> STAGING = new ThreadLocal<>();

  private static ByteBuffer staging(int floats) {
    ByteBuffer b = STAGING.get();
    if (b == null || b.capacity() < floats * 4) {
      b = ByteBuffer.allocateDirect(floats * 4).order(ByteOrder.nativeOrder());
      if (floats <= STAGING_FLOATS) {
        STAGING.set(b);
      }
    }
    return b;
  }

  /**
   * Loads a tensor keeping integer dtypes (I64/I32/I8/U8/BOOL) and f16 as stored; bf16 and f64 are
   * converted to f32.
   */
  public NDArray load(NDManager manager, String name) throws SafetensorsException {
    TensorInfo info = info(name);
    DataType target =
        switch (info.dtype()) {
          case F16 -> DataType.FLOAT16;
          case I64 -> DataType.INT64;
          case I32 -> DataType.INT32;
          case I8 -> DataType.INT8;
          case U8 -> DataType.UINT8;
          case BOOL -> DataType.BOOLEAN;
          default -> null;
        };
    if (target == null) {
      return loadFloat32(manager, name);
    }
    ByteBuffer raw = rawBytes(name);
    // Copied byte for byte: safetensors and every host DJL supports are little-endian.
    ByteBuffer direct = ByteBuffer.allocateDirect(raw.remaining()).order(ByteOrder.nativeOrder());
    direct.put(raw).flip();
    return manager.create(direct, new Shape(info.shape()), target);
  }

  /** Converts elements [first, first + count) of a float tensor into {@code dst}. */
  private void convertRange(TensorInfo info, long first, long count, FloatBuffer dst)
      throws SafetensorsException {
    int size = info.dtype().byteSize();
    long chunkElems = READ_BYTES / size;
    ByteBuffer src = READ_BUFFER.get();
    for (long done = 0; done < count; done += chunkElems) {
      int len = (int) Math.min(chunkElems, count - done);
      src.clear().limit(len * size);
      long position = dataStart + info.begin() + (first + done) * size;
      try {
        readFully(channel, src, position);
      } catch (IOException e) {
        throw new SafetensorsException(
            path + ": cannot read tensor '" + info.name() + "': " + e.getMessage(), e);
      }
      src.flip();
      switch (info.dtype()) {
        case F32 -> dst.put(src.asFloatBuffer());
        case F64 -> {
          for (int i = 0; i < len; i++) {
            dst.put((float) src.getDouble());
          }
        }
        case BF16 -> {
          for (int i = 0; i < len; i++) {
            dst.put(HalfFloats.bf16ToFloat(src.getShort()));
          }
        }
        case F16 -> {
          for (int i = 0; i < len; i++) {
            dst.put(HalfFloats.halfToFloat(src.getShort()));
          }
        }
        default -> throw new IllegalStateException("unreachable: " + info.dtype());
      }
    }
  }

  private ByteBuffer map(TensorInfo info, long begin, long length) throws SafetensorsException {
    try {
      if (length == 0) {
        return ByteBuffer.allocate(0).order(ByteOrder.LITTLE_ENDIAN);
      }
      return channel
          .map(FileChannel.MapMode.READ_ONLY, dataStart + begin, length)
          .order(ByteOrder.LITTLE_ENDIAN);
    } catch (IOException e) {
      throw new SafetensorsException(
          path + ": cannot map tensor '" + info.name() + "': " + e.getMessage(), e);
    }
  }

  private void requireFloat(TensorInfo info) throws SafetensorsException {
    if (!info.dtype().isFloatingPoint()) {
      throw new SafetensorsException(
          path
              + ": tensor '"
              + info.name()
              + "' is "
              + info.dtype()
              + ", expected a floating-point weight (F32, F16 or BF16)");
    }
  }

  private static void readFully(FileChannel channel, ByteBuffer buf, long position)
      throws IOException {
    long pos = position;
    while (buf.hasRemaining()) {
      int n = channel.read(buf, pos);
      if (n < 0) {
        throw new IOException("unexpected end of file");
      }
      pos += n;
    }
  }

  private static SafetensorsException corrupt(Path path, String what) {
    return new SafetensorsException(
        path + ": not a valid safetensors file: " + what + "; re-download or re-export it");
  }

  private static SafetensorsException corruptTensor(Path path, String name, String what) {
    return new SafetensorsException(
        path
            + ": tensor '"
            + name
            + "': "
            + what
            + "; the file is corrupt or truncated, re-download or re-export it");
  }

  private static void closeQuietly(FileChannel channel) {
    try {
      channel.close();
    } catch (IOException ignored) {
      // Already failing with a more useful error.
    }
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }
}
