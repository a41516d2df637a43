package io.kubetune.contract;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * The digest of an exported full model (method {@code full} or {@code partial}): {@code sha256:<64
 * lower-case hex>} over the bytes of {@code config.json} followed by the bytes of every {@code
 * model*.safetensors} file in name order ({@code model.safetensors}, or the shards {@code
 * model-00001-of-0000n.safetensors} ...). The shard index is derived from the shards and left out.
 */
public final class ModelDigest {

  /** Model configuration file name. */
  public static final String CONFIG_FILE = "config.json";

  private ModelDigest() {}

  /**
   * Computes the digest of the model in {@code modelDir}, streaming every file.
   *
   * @throws IOException if config.json or every weight file is missing, or a file is unreadable
   */
  public static String of(Path modelDir) throws IOException {
    List<Path> files = new ArrayList<>();
    files.add(modelDir.resolve(CONFIG_FILE));
    List<Path> weights = new ArrayList<>();
    try (DirectoryStream<Path> s = Files.newDirectoryStream(modelDir, "model*.safetensors")) {
      s.forEach(weights::add);
    }
    if (weights.isEmpty()) {
      throw new IOException(modelDir + " holds no model*.safetensors");
    }
    weights.sort(null);
    files.addAll(weights);
    MessageDigest sha = sha256();
    byte[] buffer = new byte[1 << 16];
    for (Path file : files) {
      try (InputStream in = Files.newInputStream(file)) {
        for (int n; (n = in.read(buffer)) > 0; ) {
          sha.update(buffer, 0, n);
        }
      }
    }
    return AdapterDigest.PREFIX + HexFormat.of().formatHex(sha.digest());
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      // Every Java runtime must provide SHA-256.
      throw new IllegalStateException(e);
    }
  }
}
