package io.kubetune.operator.chart;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.kubetune.operator.api.v1alpha1.AdapterDeployment;
import io.kubetune.operator.api.v1alpha1.AdapterDeploymentStatus;
import io.kubetune.operator.api.v1alpha1.Conditions;
import io.kubetune.operator.api.v1alpha1.FineTuneJob;
import io.kubetune.operator.api.v1alpha1.FineTuneJobStatus;
import io.kubetune.operator.api.v1alpha1.FineTuneJobStatus.Phase;
import io.kubetune.operator.api.v1alpha1.Reasons;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.luaj.vm2.Globals;
import org.luaj.vm2.LuaTable;
import org.luaj.vm2.LuaValue;
import org.luaj.vm2.lib.jse.JsePlatform;

/**
 * Runs the Argo CD health checks the chart ships (taken from the rendered argocd-cm snippet, as
 * Argo CD would get them) with a Java Lua engine against statuses built from the API types.
 */
class ArgoCdHealthTest {

  private static final KubernetesSerialization JSON = new KubernetesSerialization();
  private static final String FTJ_KEY = "resource.customizations.health.kubetune.io_FineTuneJob";
  private static final String AD_KEY =
      "resource.customizations.health.kubetune.io_AdapterDeployment";

  private static Map<String, String> snippet;

  @BeforeAll
  static void renderSnippet() {
    List<HasMetadata> objects = Charts.objects(Map.of("argocd.healthChecks.enabled", true));
    ConfigMap map =
        Charts.ofType(objects, ConfigMap.class).stream()
            .filter(c -> c.getMetadata().getName().endsWith("-argocd-health"))
            .findFirst()
            .orElseThrow();
    snippet = map.getData();
  }

  /** The result of a health check: Argo CD's hs table. */
  record Health(String status, String message) {}

  @Test
  void snippetCarriesTheShippedScripts() throws IOException {
    assertEquals(
        Files.readString(script("finetunejob-health.lua")).strip(), snippet.get(FTJ_KEY).strip());
    assertEquals(
        Files.readString(script("adapterdeployment-health.lua")).strip(),
        snippet.get(AD_KEY).strip());
  }

  static Stream<Arguments> fineTuneJobPhases() {
    return Stream.of(
        Arguments.of(Phase.Pending, "Progressing"),
        Arguments.of(Phase.Validating, "Progressing"),
        Arguments.of(Phase.Queued, "Progressing"),
        Arguments.of(Phase.Running, "Progressing"),
        Arguments.of(Phase.Succeeded, "Healthy"),
        Arguments.of(Phase.Failed, "Degraded"),
        Arguments.of(Phase.Suspended, "Suspended"));
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @MethodSource("fineTuneJobPhases")
  void fineTuneJobPhaseMapsToHealth(Phase phase, String expected) {
    FineTuneJob job = fineTuneJob(3L, 3L, phase);
    assertEquals(expected, health(FTJ_KEY, job).status());
  }

  @Test
  void everyFineTuneJobPhaseHasAnExpectedHealth() {
    // A phase added to the API without a row in fineTuneJobPhases() fails here.
    assertEquals(
        List.of(Phase.values()),
        fineTuneJobPhases().map(a -> (Phase) a.get()[0]).sorted().toList());
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(Phase.class)
  void staleObservedGenerationIsProgressingWhateverThePhase(Phase phase) {
    Health health = health(FTJ_KEY, fineTuneJob(4L, 3L, phase));
    assertEquals("Progressing", health.status());
    assertTrue(health.message().contains("generation 4"), health.message());
  }

  @Test
  void fineTuneJobWithoutStatusIsProgressing() {
    FineTuneJob job = fineTuneJob(1L, null, null);
    job.setStatus(null);
    assertEquals("Progressing", health(FTJ_KEY, job).status());
    FineTuneJob noObservedGeneration = fineTuneJob(1L, null, Phase.Succeeded);
    assertEquals("Progressing", health(FTJ_KEY, noObservedGeneration).status());
    FineTuneJob noPhase = fineTuneJob(1L, 1L, null);
    assertEquals("Progressing", health(FTJ_KEY, noPhase).status());
  }

  @Test
  void fineTuneJobMessagesSayWhatHappened() {
    FineTuneJob failed = fineTuneJob(1L, 1L, Phase.Failed);
    failed
        .getStatus()
        .conditions
        .add(condition(Conditions.FAILED, "True", Reasons.OOM_KILLED, "trainer ran out of memory"));
    assertEquals("trainer ran out of memory", health(FTJ_KEY, failed).message());

    FineTuneJob running = fineTuneJob(1L, 1L, Phase.Running);
    running.getStatus().progress = new FineTuneJobStatus.Progress();
    running.getStatus().progress.percent = "42%";
    assertEquals("Training: 42%", health(FTJ_KEY, running).message());

    FineTuneJob done = fineTuneJob(1L, 1L, Phase.Succeeded);
    done.getStatus().adapter = new FineTuneJobStatus.Adapter();
    done.getStatus().adapter.path = "/artifacts/adapters/job";
    assertTrue(health(FTJ_KEY, done).message().contains("/artifacts/adapters/job"));
  }

  static Stream<Arguments> adapterDeploymentConditions() {
    return Stream.of(
        Arguments.of("Ready True", List.of(cond(Conditions.READY, "True")), "Healthy"),
        Arguments.of(
            "Ready and Degraded True",
            List.of(cond(Conditions.READY, "True"), cond(Conditions.DEGRADED, "True")),
            "Degraded"),
        Arguments.of("Degraded True", List.of(cond(Conditions.DEGRADED, "True")), "Degraded"),
        Arguments.of(
            "Ready True, Degraded False",
            List.of(cond(Conditions.READY, "True"), cond(Conditions.DEGRADED, "False")),
            "Healthy"),
        Arguments.of("Ready False", List.of(cond(Conditions.READY, "False")), "Progressing"),
        Arguments.of("Ready Unknown", List.of(cond(Conditions.READY, "Unknown")), "Progressing"),
        Arguments.of(
            "Reconciling True",
            List.of(cond(Conditions.RECONCILING, "True"), cond(Conditions.READY, "False")),
            "Progressing"),
        Arguments.of(
            "Stalled True",
            List.of(cond(Conditions.STALLED, "True"), cond(Conditions.READY, "False")),
            "Degraded"),
        Arguments.of("no conditions", List.of(), "Progressing"));
  }

  @ParameterizedTest(name = "{0} -> {2}")
  @MethodSource("adapterDeploymentConditions")
  void adapterDeploymentConditionsMapToHealth(
      String name, List<Condition> conditions, String expected) {
    assertEquals(expected, health(AD_KEY, adapterDeployment(2L, 2L, conditions)).status());
  }

  @Test
  void adapterDeploymentWithoutStatusOrWithStaleStatusIsProgressing() {
    AdapterDeployment none = adapterDeployment(1L, null, List.of());
    none.setStatus(null);
    assertEquals("Progressing", health(AD_KEY, none).status());
    AdapterDeployment stale = adapterDeployment(5L, 4L, List.of(cond(Conditions.READY, "True")));
    assertEquals("Progressing", health(AD_KEY, stale).status());
  }

  @Test
  void healthyAdapterDeploymentReportsLoadedAdapters() {
    AdapterDeployment ad = adapterDeployment(1L, 1L, List.of(cond(Conditions.READY, "True")));
    ad.getStatus().loadedAdapters = "12/12";
    assertEquals("Serving, adapters loaded: 12/12", health(AD_KEY, ad).message());
  }

  private static Path script(String name) {
    return Charts.CHART.resolve("argocd").resolve(name);
  }

  private static FineTuneJob fineTuneJob(Long generation, Long observed, Phase phase) {
    FineTuneJob job = new FineTuneJob();
    job.setMetadata(
        new ObjectMetaBuilder()
            .withName("job")
            .withNamespace("ml")
            .withGeneration(generation)
            .build());
    FineTuneJobStatus status = new FineTuneJobStatus();
    status.observedGeneration = observed;
    status.phase = phase;
    job.setStatus(status);
    return job;
  }

  private static AdapterDeployment adapterDeployment(
      Long generation, Long observed, List<Condition> conditions) {
    AdapterDeployment ad = new AdapterDeployment();
    ad.setMetadata(
        new ObjectMetaBuilder()
            .withName("serve")
            .withNamespace("ml")
            .withGeneration(generation)
            .build());
    AdapterDeploymentStatus status = new AdapterDeploymentStatus();
    status.observedGeneration = observed;
    status.conditions.addAll(conditions);
    ad.setStatus(status);
    return ad;
  }

  private static Condition cond(String type, String status) {
    return condition(type, status, Reasons.PENDING, type + " is " + status);
  }

  private static Condition condition(String type, String status, String reason, String message) {
    return new ConditionBuilder()
        .withType(type)
        .withStatus(status)
        .withReason(reason)
        .withMessage(message)
        .withLastTransitionTime("2026-01-01T00:00:00Z")
        .build();
  }

  /** Runs the health check under {@code key} on {@code resource} serialized as Argo CD sees it. */
  @SuppressWarnings("unchecked")
  static Health health(String key, HasMetadata resource) {
    Map<String, Object> obj = JSON.convertValue(resource, Map.class);
    Globals globals = JsePlatform.standardGlobals();
    // Argo CD's Lua sandbox has no os or io: a script relying on them would fail there.
    globals.set("os", LuaValue.NIL);
    globals.set("io", LuaValue.NIL);
    globals.set("luajava", LuaValue.NIL);
    globals.set("obj", toLua(obj));
    LuaValue hs = globals.load(snippet.get(key), key).call();
    assertTrue(hs.istable(), "health check returned " + hs);
    String status = hs.get("status").tojstring();
    assertTrue(
        List.of("Healthy", "Progressing", "Degraded", "Suspended", "Missing", "Unknown")
            .contains(status),
        "not an Argo CD health status: " + status);
    return new Health(status, hs.get("message").isnil() ? null : hs.get("message").tojstring());
  }

  @SuppressWarnings("unchecked")
  private static LuaValue toLua(Object value) {
    if (value == null) {
      return LuaValue.NIL;
    }
    if (value instanceof Map<?, ?> map) {
      LuaTable table = new LuaTable();
      map.forEach((k, v) -> table.set(String.valueOf(k), toLua(v)));
      return table;
    }
    if (value instanceof List<?> list) {
      LuaTable table = new LuaTable();
      for (int i = 0; i < list.size(); i++) {
        table.set(i + 1, toLua(list.get(i)));
      }
      return table;
    }
    if (value instanceof Number n) {
      // Argo CD decodes JSON numbers as floats.
      return LuaValue.valueOf(n.doubleValue());
    }
    if (value instanceof Boolean b) {
      return LuaValue.valueOf(b);
    }
    return LuaValue.valueOf(String.valueOf(value));
  }
}
