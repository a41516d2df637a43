package io.kubetune.operator.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class OperatorSettingsTest {

  @Test
  void defaultsWatchAllNamespacesWithoutLeaderElection() {
    OperatorSettings s = OperatorSettings.fromEnv(Map.of());
    assertTrue(s.watchesAllNamespaces());
    assertFalse(s.leaderElection());
    assertEquals("kubetune-operator", s.leaseName());
    assertEquals(Optional.empty(), s.leaseNamespace());
    assertEquals(8080, s.httpPort());
    assertEquals(OperatorSettings.LogFormat.JSON, s.logFormat());
  }

  @Test
  void readsEveryVariable() {
    OperatorSettings s =
        OperatorSettings.fromEnv(
            Map.of(
                "KUBETUNE_WATCH_NAMESPACES", " team-a , team-b ",
                "KUBETUNE_LEADER_ELECTION", "TRUE",
                "KUBETUNE_LEASE_NAME", "kubetune.lease",
                "KUBETUNE_LEASE_NAMESPACE", "kubetune-system",
                "POD_NAME", "kubetune-operator-7d9f-abcde",
                "KUBETUNE_HTTP_PORT", "9090",
                "KUBETUNE_LOG_FORMAT", "Text"));
    assertEquals(Set.of("team-a", "team-b"), s.watchedNamespaces());
    assertFalse(s.watchesAllNamespaces());
    assertTrue(s.leaderElection());
    assertEquals("kubetune.lease", s.leaseName());
    assertEquals(Optional.of("kubetune-system"), s.leaseNamespace());
    assertEquals(Optional.of("kubetune-operator-7d9f-abcde"), s.identity());
    assertEquals(9090, s.httpPort());
    assertEquals(OperatorSettings.LogFormat.TEXT, s.logFormat());
  }

  @Test
  void starMeansAllNamespaces() {
    assertTrue(
        OperatorSettings.fromEnv(Map.of("KUBETUNE_WATCH_NAMESPACES", "*")).watchesAllNamespaces());
  }

  @Test
  void invalidValuesNameTheVariableAndTheFix() {
    assertInvalid("KUBETUNE_WATCH_NAMESPACES", "Team_A", "not a valid namespace name");
    assertInvalid("KUBETUNE_WATCH_NAMESPACES", "a,,b", "empty namespace");
    assertInvalid("KUBETUNE_LEADER_ELECTION", "yes", "use 'true' or 'false'");
    assertInvalid("KUBETUNE_LEASE_NAME", "Lease!", "not a valid Lease name");
    assertInvalid("KUBETUNE_LEASE_NAMESPACE", "-bad", "not a valid namespace name");
    assertInvalid("KUBETUNE_HTTP_PORT", "http", "use a number from 1 to 65535");
    assertInvalid("KUBETUNE_HTTP_PORT", "70000", "use a number from 1 to 65535");
    assertInvalid("KUBETUNE_LOG_FORMAT", "xml", "use 'json' or 'text'");
  }

  private static void assertInvalid(String variable, String value, String hint) {
    InvalidSettingException e =
        assertThrows(
            InvalidSettingException.class, () -> OperatorSettings.fromEnv(Map.of(variable, value)));
    assertEquals(variable, e.variable());
    assertTrue(e.getMessage().startsWith(variable + ": "), e.getMessage());
    assertTrue(e.getMessage().contains(hint), e.getMessage());
  }
}
