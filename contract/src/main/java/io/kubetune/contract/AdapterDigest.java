package io.kubetune.contract;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * The adapter digest shared by trainer and operator: {@code sha256:<64 lower-case hex>} over the
 * bytes of {@code adapter_config.json} followed by the bytes of {@code adapter_model.safetensors}.
 * The trainer reports it; the operator recomputes it before serving an adapter.
 */
public final class AdapterDigest {

  /** PEFT adapter configuration file name. */
  public static final String CONFIG_FILE = "adapter_config.json";

  /** PEFT adapter weights file name. */
  public static final String WEIGHTS_FILE = "adapter_model.safetensors";

  /** Prefix naming the hash algorithm. */
  public static final String PREFIX = "sha256:";

  private static final Pattern FORMAT = Pattern.compile("sha256:[0-9a-f]{64}");

  private AdapterDigest() {}

  /**
   * Computes the digest of the adapter in {@code adapterDir}, streaming both files.
   *
   * @throws IOException if either file is missing or unreadable
   */
  public static String of(Path adapterDir) throws IOException {
    MessageDigest sha = sha256();
    byte[] buffer = new byte[1 << 16];
    for (String file : new String[] {CONFIG_FILE, WEIGHTS_FILE}) {
      try (InputStream in = Files.newInputStream(adapterDir.resolve(file))) {
        for (int n; (n = in.read(buffer)) > 0; ) {
          sha.update(buffer, 0, n);
        }
      }
    }
    return PREFIX + HexFormat.of().formatHex(sha.digest());
  }

  /** Computes the digest from the two files' contents. */
  public static String of(byte[] adapterConfig, byte[] adapterWeights) {
    MessageDigest sha = sha256();
    sha.update(adapterConfig);
    sha.update(adapterWeights);
    return PREFIX + HexFormat.of().formatHex(sha.digest());
  }

  /** Returns true when {@code digest} has the form {@code sha256:<64 lower-case hex>}. */
  public static boolean isWellFormed(String digest) {
    return digest != null && FORMAT.matcher(digest).matches();
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
