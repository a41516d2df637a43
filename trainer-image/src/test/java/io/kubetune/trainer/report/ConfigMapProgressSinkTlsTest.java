package io.kubetune.trainer.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.kubetune.contract.TrainerConfig;
import io.kubetune.contract.TrainerStage;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The production path: HTTPS to the API server, trusting only the CA mounted with the service
 * account. Certificates are made with the JDK's keytool for 127.0.0.1.
 */
class ConfigMapProgressSinkTlsTest {
  private static final String PASS = "changeit";

  // Certificates are made once per class: each keytool run starts a JVM.
  @TempDir static Path certs;
  @TempDir Path dir;
  private HttpsServer server;
  private final List<String> paths = Collections.synchronizedList(new ArrayList<>());

  private static void keytool(String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes());
    assertEquals(0, p.waitFor(), output);
  }

  private static void certificate(String name) throws IOException, InterruptedException {
    keytool(
        "-genkeypair",
        "-alias",
        name,
        "-keyalg",
        "EC",
        "-groupname",
        "secp256r1",
        "-dname",
        "CN=kube-apiserver",
        "-ext",
        "san=ip:127.0.0.1",
        "-validity",
        "2",
        "-keystore",
        certs.resolve(name + ".p12").toString(),
        "-storetype",
        "PKCS12",
        "-storepass",
        PASS,
        "-keypass",
        PASS);
    keytool(
        "-exportcert",
        "-rfc",
        "-alias",
        name,
        "-keystore",
        certs.resolve(name + ".p12").toString(),
        "-storepass",
        PASS,
        "-file",
        certs.resolve(name + ".crt").toString());
  }

  @BeforeAll
  static void certificates() throws Exception {
    certificate("server");
    certificate("other");
  }

  @BeforeEach
  void start() throws Exception {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(certs.resolve("server.p12"))) {
      ks.load(in, PASS.toCharArray());
    }
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(ks, PASS.toCharArray());
    SSLContext tls = SSLContext.getInstance("TLS");
    tls.init(kmf.getKeyManagers(), null, null);
    server = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.setHttpsConfigurator(new HttpsConfigurator(tls));
    server.createContext(
        "/",
        ex -> {
          try (ex) {
            ex.getRequestBody().readAllBytes();
            paths.add(ex.getRequestURI().getPath());
            ex.sendResponseHeaders(200, -1);
          }
        });
    server.start();
    Files.writeString(dir.resolve("token"), "tls-token");
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private ProgressSink sink(String caFile) throws IOException {
    Path sa = Files.createDirectories(dir.resolve("sa-" + caFile));
    Files.copy(dir.resolve("token"), sa.resolve("token"));
    Files.copy(certs.resolve(caFile), sa.resolve("ca.crt"));
    KubernetesEnvironment kube =
        new KubernetesEnvironment(
            Map.of(
                "KUBERNETES_SERVICE_HOST",
                "127.0.0.1",
                "KUBERNETES_SERVICE_PORT",
                Integer.toString(server.getAddress().getPort())),
            sa,
            "https");
    TrainerConfig config = new TrainerConfig("job", "ns", null, null, null, null, null, null, null);
    return ProgressReporter.clusterSink(config, kube).orElseThrow();
  }

  @Test
  void trustsTheMountedClusterCa() throws IOException {
    sink("server.crt").publish(ProgressReporterTest.progress(TrainerStage.STARTING, 0));

    assertEquals(List.of("/api/v1/namespaces/ns/configmaps/job-progress"), paths);
  }

  @Test
  void refusesAServerSignedByAnotherCaWithoutFailing() throws IOException {
    try (LogCapture log = new LogCapture()) {
      sink("other.crt").publish(ProgressReporterTest.progress(TrainerStage.STARTING, 0));
      assertTrue(log.text().contains("SSLHandshakeException"), log.text());
    }
    assertEquals(List.of(), paths, "nothing may reach a server the cluster CA did not sign");
  }
}
