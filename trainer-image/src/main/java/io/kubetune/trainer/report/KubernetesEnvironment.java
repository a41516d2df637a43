package io.kubetune.trainer.report;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Map;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * What a pod knows about the cluster it runs in: the API server address from {@code
 * KUBERNETES_SERVICE_HOST}/{@code KUBERNETES_SERVICE_PORT} and the mounted service-account token,
 * CA certificate and namespace. The folder and the URL scheme are parameters so tests can point it
 * at a fake API server over plain HTTP.
 */
public final class KubernetesEnvironment {
  /** Where Kubernetes mounts the service-account files. */
  public static final Path DEFAULT_SERVICE_ACCOUNT_DIR =
      Path.of("/var/run/secrets/kubernetes.io/serviceaccount");

  private final Map<String, String> env;
  private final Path serviceAccountDir;
  private final String scheme;

  /**
   * Creates an environment view.
   *
   * @param env environment variables
   * @param serviceAccountDir folder holding {@code token}, {@code ca.crt} and {@code namespace}
   * @param scheme {@code https} in production
   */
  public KubernetesEnvironment(Map<String, String> env, Path serviceAccountDir, String scheme) {
    this.env = Map.copyOf(env);
    this.serviceAccountDir = serviceAccountDir;
    this.scheme = scheme;
  }

  /** The environment of this process. */
  public static KubernetesEnvironment system() {
    return new KubernetesEnvironment(System.getenv(), DEFAULT_SERVICE_ACCOUNT_DIR, "https");
  }

  /** Whether the process runs in a pod that can reach the API server with a token. */
  public boolean inCluster() {
    return !blank(env.get("KUBERNETES_SERVICE_HOST"))
        && !blank(env.get("KUBERNETES_SERVICE_PORT"))
        && Files.isRegularFile(tokenFile());
  }

  /** The API server base URL. */
  public URI apiServer() {
    String host = env.get("KUBERNETES_SERVICE_HOST").strip();
    if (host.contains(":") && !host.startsWith("[")) {
      host = "[" + host + "]";
    }
    return URI.create(scheme + "://" + host + ":" + env.get("KUBERNETES_SERVICE_PORT").strip());
  }

  /** The service-account token file; it is re-read for every request because it rotates. */
  public Path tokenFile() {
    return serviceAccountDir.resolve("token");
  }

  /** The pod's namespace from the service-account mount, when present. */
  public Optional<String> namespace() {
    Path file = serviceAccountDir.resolve("namespace");
    try {
      return Files.isRegularFile(file)
          ? Optional.of(Files.readString(file, StandardCharsets.UTF_8).strip())
          : Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /**
   * TLS settings trusting the cluster CA, or empty for plain HTTP.
   *
   * @throws IOException when {@code ca.crt} cannot be read or parsed
   */
  public Optional<SSLContext> sslContext() throws IOException {
    if (!"https".equals(scheme)) {
      return Optional.empty();
    }
    Path ca = serviceAccountDir.resolve("ca.crt");
    try (InputStream in = Files.newInputStream(ca)) {
      KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
      store.load(null, null);
      int i = 0;
      for (Certificate cert : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
        store.setCertificateEntry("ca-" + i++, cert);
      }
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(store);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, tmf.getTrustManagers(), null);
      return Optional.of(context);
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot use the cluster CA " + ca + ": " + e.getMessage(), e);
    }
  }

  private static boolean blank(String s) {
    return s == null || s.isBlank();
  }
}
