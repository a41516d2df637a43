package io.kubetune.operator.runtime;

import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Process-level settings of the operator, read from environment variables (documented in
 * docs/operator.md).
 *
 * @param watchedNamespaces namespaces to watch; empty means all namespaces
 * @param leaderElection whether to run leader election (required with more than one replica)
 * @param leaseName name of the coordination.k8s.io Lease used for leader election
 * @param leaseNamespace namespace of the Lease; empty means the client's namespace
 * @param identity this replica's identity in the Lease (the pod name)
 * @param httpPort port serving /healthz, /readyz and /metrics; 0 picks a free port
 * @param logFormat log output format
 */
public record OperatorSettings(
    Set<String> watchedNamespaces,
    boolean leaderElection,
    String leaseName,
    Optional<String> leaseNamespace,
    Optional<String> identity,
    int httpPort,
    LogFormat logFormat) {

  public static final String WATCH_NAMESPACES = "KUBETUNE_WATCH_NAMESPACES";
  public static final String LEADER_ELECTION = "KUBETUNE_LEADER_ELECTION";
  public static final String LEASE_NAME = "KUBETUNE_LEASE_NAME";
  public static final String LEASE_NAMESPACE = "KUBETUNE_LEASE_NAMESPACE";
  public static final String POD_NAME = "POD_NAME";
  public static final String HTTP_PORT = "KUBETUNE_HTTP_PORT";
  public static final String LOG_FORMAT = "KUBETUNE_LOG_FORMAT";

  public static final String DEFAULT_LEASE_NAME = "kubetune-operator";
  public static final int DEFAULT_HTTP_PORT = 8080;

  // RFC 1123 label: what Kubernetes accepts as a namespace name.
  private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");
  // RFC 1123 subdomain: what Kubernetes accepts as a Lease name.
  private static final Pattern DNS_SUBDOMAIN =
      Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");

  /** Log output format. */
  public enum LogFormat {
    /** One JSON object per line, for log collectors. */
    JSON,
    /** Human-readable lines, for local runs. */
    TEXT
  }

  public OperatorSettings {
    watchedNamespaces = Set.copyOf(watchedNamespaces);
  }

  /** Returns true when the operator watches every namespace. */
  public boolean watchesAllNamespaces() {
    return watchedNamespaces.isEmpty();
  }

  /** Returns the defaults: all namespaces, no leader election, port 8080, JSON logs. */
  public static OperatorSettings defaults() {
    return fromEnv(Map.of());
  }

  /**
   * Reads the settings from {@code env}.
   *
   * @throws InvalidSettingException naming the variable and the accepted values when a value is
   *     invalid
   */
  public static OperatorSettings fromEnv(Map<String, String> vars) {
    EnvReader env = new EnvReader(vars);
    return new OperatorSettings(
        namespaces(env),
        env.bool(LEADER_ELECTION, false),
        leaseName(env),
        env.optional(LEASE_NAMESPACE).map(ns -> namespace(LEASE_NAMESPACE, ns)),
        env.optional(POD_NAME),
        port(env),
        logFormat(env));
  }

  private static Set<String> namespaces(EnvReader env) {
    Optional<String> raw = env.optional(WATCH_NAMESPACES);
    if (raw.isEmpty() || raw.get().equals("*")) {
      return Set.of();
    }
    Set<String> namespaces = new LinkedHashSet<>();
    for (String part : raw.get().split(",", -1)) {
      String ns = part.trim();
      if (ns.isEmpty()) {
        throw new InvalidSettingException(
            WATCH_NAMESPACES,
            "empty namespace in '"
                + raw.get()
                + "'; use a comma-separated list such as 'team-a,team-b', or '*' or nothing for"
                + " all namespaces");
      }
      namespaces.add(namespace(WATCH_NAMESPACES, ns));
    }
    return namespaces;
  }

  private static String namespace(String variable, String ns) {
    if (ns.length() > 63 || !DNS_LABEL.matcher(ns).matches()) {
      throw new InvalidSettingException(
          variable,
          "'"
              + ns
              + "' is not a valid namespace name (lower-case letters, digits and '-', at most 63"
              + " characters)");
    }
    return ns;
  }

  private static String leaseName(EnvReader env) {
    String name = env.optional(LEASE_NAME).orElse(DEFAULT_LEASE_NAME);
    if (name.length() > 253 || !DNS_SUBDOMAIN.matcher(name).matches()) {
      throw new InvalidSettingException(
          LEASE_NAME,
          "'"
              + name
              + "' is not a valid Lease name (lower-case letters, digits, '-' and '.', at most 253"
              + " characters)");
    }
    return name;
  }

  private static int port(EnvReader env) {
    Optional<String> raw = env.optional(HTTP_PORT);
    if (raw.isEmpty()) {
      return DEFAULT_HTTP_PORT;
    }
    try {
      int port = Integer.parseInt(raw.get());
      if (port >= 0 && port <= 65535) {
        return port;
      }
    } catch (NumberFormatException e) {
      // Falls through to the message below, which says what is accepted.
    }
    throw new InvalidSettingException(
        HTTP_PORT, "'" + raw.get() + "' is not a port; use a number from 1 to 65535 (0 = any)");
  }

  private static LogFormat logFormat(EnvReader env) {
    Optional<String> raw = env.optional(LOG_FORMAT);
    if (raw.isEmpty()) {
      return LogFormat.JSON;
    }
    String value = raw.get().toLowerCase(Locale.ROOT);
    return Arrays.stream(LogFormat.values())
        .filter(f -> f.name().toLowerCase(Locale.ROOT).equals(value))
        .findFirst()
        .orElseThrow(
            () ->
                new InvalidSettingException(
                    LOG_FORMAT, "'" + raw.get() + "' is not a log format; use 'json' or 'text'"));
  }
}
