package io.kubetune.operator.chart;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.kubetune.operator.adapter.AdapterDeploymentSettings;
import io.kubetune.operator.finetune.FineTuneJobSettings;
import io.kubetune.operator.runtime.OperatorSettings;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Lints and renders the Helm chart with helm-java (embedded Helm, offline) and checks the rendered
 * objects as a platform team's admission policies would: restricted pod security, least-privilege
 * RBAC, pinned images, probes, and the operator settings wired from values.
 */
class ChartTest {

  private static final List<String> ALL_VERBS =
      List.of("get", "list", "watch", "create", "update", "patch", "delete", "deletecollection");

  /** Value sets every policy check runs against: defaults and the main non-default shapes. */
  static Stream<Arguments> valueSets() {
    return Stream.of(
        Arguments.of("defaults", Map.of()),
        Arguments.of(
            "namespaced", Map.of("watchNamespaces[0]", "team-a", "watchNamespaces[1]", "team-b")),
        Arguments.of(
            "ha",
            Map.of(
                "replicas",
                3,
                "metrics.serviceMonitor.enabled",
                true,
                "networkPolicy.enabled",
                true)),
        Arguments.of(
            "ha-namespaced-extras",
            Map.of(
                "replicas",
                2,
                "watchNamespaces[0]",
                "ml",
                "argocd.healthChecks.enabled",
                true,
                "grafana.dashboards.enabled",
                true,
                "image.digest",
                "sha256:" + "a".repeat(64))));
  }

  @Test
  void lintStrictPasses() {
    LintResult result = new Helm(Charts.CHART).lint().strict().call();
    assertFalse(result.isFailed(), () -> "helm lint --strict: " + result.getMessages());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("valueSets")
  void everyPodTemplateIsRestricted(String name, Map<String, Object> values) {
    List<PodSpec> pods = podSpecs(Charts.objects(values));
    assertFalse(pods.isEmpty(), "no pod template rendered");
    for (PodSpec pod : pods) {
      assertEquals(Boolean.TRUE, pod.getSecurityContext().getRunAsNonRoot(), "pod runAsNonRoot");
      assertEquals(65532L, pod.getSecurityContext().getRunAsUser(), "pod runAsUser");
      assertEquals("RuntimeDefault", pod.getSecurityContext().getSeccompProfile().getType());
      assertFalse(Boolean.TRUE.equals(pod.getHostNetwork()), "hostNetwork");
      assertFalse(Boolean.TRUE.equals(pod.getHostPID()), "hostPID");
      assertTrue(
          pod.getVolumes().stream().allMatch(v -> v.getHostPath() == null), "hostPath volume");
      List<Container> containers = new ArrayList<>(pod.getContainers());
      containers.addAll(pod.getInitContainers());
      for (Container c : containers) {
        SecurityContext sc = c.getSecurityContext();
        assertNotNull(sc, c.getName() + ": securityContext");
        assertEquals(Boolean.TRUE, sc.getRunAsNonRoot(), c.getName() + ": runAsNonRoot");
        assertEquals(65532L, sc.getRunAsUser(), c.getName() + ": runAsUser");
        assertEquals(Boolean.TRUE, sc.getReadOnlyRootFilesystem(), c.getName() + ": read-only");
        assertEquals(Boolean.FALSE, sc.getAllowPrivilegeEscalation(), c.getName());
        assertFalse(Boolean.TRUE.equals(sc.getPrivileged()), c.getName() + ": privileged");
        assertEquals(List.of("ALL"), sc.getCapabilities().getDrop(), c.getName() + ": drop");
        assertTrue(
            sc.getCapabilities().getAdd() == null || sc.getCapabilities().getAdd().isEmpty(),
            c.getName() + ": added capabilities");
        assertEquals("RuntimeDefault", sc.getSeccompProfile().getType(), c.getName());
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("valueSets")
  void everyImageIsPinned(String name, Map<String, Object> values) {
    List<String> images = new ArrayList<>();
    for (PodSpec pod : podSpecs(Charts.objects(values))) {
      pod.getContainers().forEach(c -> images.add(c.getImage()));
      // The trainer and serving images reach their pods through the operator's environment.
      pod.getContainers().stream()
          .flatMap(c -> c.getEnv().stream())
          .filter(e -> e.getName().endsWith("_IMAGE"))
          .forEach(e -> images.add(e.getValue()));
    }
    assertTrue(images.size() >= 3, images.toString());
    for (String image : images) {
      assertTrue(isPinned(image), "image not pinned to a tag or digest: " + image);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("valueSets")
  void rbacHasNoWildcardsAndNoSecrets(String name, Map<String, Object> values) {
    List<HasMetadata> objects = Charts.objects(values);
    List<PolicyRule> rules = rules(objects);
    assertFalse(rules.isEmpty(), "no RBAC rendered");
    for (PolicyRule rule : rules) {
      for (List<String> field :
          List.of(rule.getVerbs(), rule.getResources(), rule.getApiGroups())) {
        assertFalse(field.contains("*"), "wildcard in " + rule);
      }
      // The operator never reads Secrets: pods reference them by name and the kubelet resolves
      // them. Granting them would let a compromised operator read every token in scope.
      assertFalse(rule.getResources().contains("secrets"), "Secrets access in " + rule);
      assertFalse(
          rule.getVerbs().stream()
              .anyMatch(v -> Set.of("escalate", "bind", "impersonate").contains(v)),
          "privilege escalation verb in " + rule);
      assertTrue(
          rule.getNonResourceURLs() == null || rule.getNonResourceURLs().isEmpty(),
          "non-resource URL in " + rule);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("valueSets")
  void probesPointAtTheOperatorEndpoints(String name, Map<String, Object> values) {
    Container operator = operatorContainer(Charts.objects(values));
    assertEquals("/healthz", path(operator.getStartupProbe()));
    assertEquals("/healthz", path(operator.getLivenessProbe()));
    assertEquals("/readyz", path(operator.getReadinessProbe()));
    assertNotNull(operator.getResources().getRequests().get("memory"), "memory request");
    assertNotNull(operator.getResources().getLimits().get("memory"), "memory limit");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("valueSets")
  void onlyTheOperatorPodMountsAnApiToken(String name, Map<String, Object> values) {
    List<HasMetadata> objects = Charts.objects(values);
    for (ServiceAccount sa : Charts.ofType(objects, ServiceAccount.class)) {
      assertEquals(Boolean.FALSE, sa.getAutomountServiceAccountToken(), sa.getMetadata().getName());
    }
    for (PodSpec pod : podSpecs(objects)) {
      assertEquals(Boolean.TRUE, pod.getAutomountServiceAccountToken());
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("valueSets")
  void renderedEnvironmentIsAcceptedByTheOperator(String name, Map<String, Object> values) {
    Map<String, String> env = env(operatorContainer(Charts.objects(values)));
    Set<String> read = new java.util.TreeSet<>(variablesReadByTheOperator());
    read.removeAll(env.keySet());
    assertEquals(Set.of(), read, "settings the chart does not wire");
    // The operator's own parsers accept what the chart renders (they stop the process otherwise).
    Map<String, String> resolved = new HashMap<>(env);
    resolved.put(OperatorSettings.POD_NAME, "kt-kubetune-0");
    OperatorSettings settings = OperatorSettings.fromEnv(resolved);
    FineTuneJobSettings fineTune = FineTuneJobSettings.fromEnv(resolved);
    AdapterDeploymentSettings serving = AdapterDeploymentSettings.fromEnv(resolved);
    assertEquals(Charts.NAMESPACE, settings.leaseNamespace().orElseThrow());
    assertEquals("kubetune-artifacts", fineTune.artifactClaimName());
    assertEquals(fineTune.artifactClaimName(), serving.artifactClaimName());
    // The serving NetworkPolicy admits only pods with these labels to the management port: they
    // must be labels the operator's own pods carry, or adapters can never be registered.
    Deployment deployment = Charts.ofType(Charts.objects(values), Deployment.class).get(0);
    Map<String, String> podLabels = deployment.getSpec().getTemplate().getMetadata().getLabels();
    assertFalse(serving.operatorPodLabels().isEmpty());
    serving
        .operatorPodLabels()
        .forEach((k, v) -> assertEquals(v, podLabels.get(k), "operator pod label " + k));
    assertEquals(
        deployment.getSpec().getSelector().getMatchLabels(),
        serving.operatorPodLabels(),
        "pod selector = the Deployment's selector labels");
    assertEquals(Charts.NAMESPACE, serving.operatorNamespace());
  }

  @Test
  void servingSettingsFollowTheValues() {
    Map<String, String> env =
        env(
            operatorContainer(
                Charts.objects(
                    Map.of(
                        "serving.pullPolicy", "Always",
                        "serving.inferencePort", 9080,
                        "serving.managementPort", 9081,
                        "serving.startupSeconds", 7200,
                        "serving.runAsUser", 2000,
                        "serving.targetModules[0]", "q_proj",
                        "serving.targetModules[1]", "v_proj",
                        "serving.resyncSeconds", 120,
                        "serving.pendingResyncSeconds", 3,
                        "serving.image.tag", "0.32.0-lmi"))));
    AdapterDeploymentSettings serving = AdapterDeploymentSettings.fromEnv(env);
    assertEquals("deepjavalibrary/djl-serving:0.32.0-lmi", serving.servingImage());
    assertEquals("Always", serving.imagePullPolicy());
    assertEquals(9080, serving.inferencePort());
    assertEquals(9081, serving.managementPort());
    assertEquals(7200, serving.startupBudget().toSeconds());
    assertEquals(2000, serving.runAsUser());
    assertEquals(Set.of("q_proj", "v_proj"), serving.targetModules());
    assertEquals(120, serving.resync().toSeconds());
    assertEquals(3, serving.pendingResync().toSeconds());
  }

  @Test
  void defaultServingImageIsThePinnedLmiImageTheOperatorDefaultsTo() {
    Map<String, String> env = env(operatorContainer(Charts.objects(Map.of())));
    String image = env.get(AdapterDeploymentSettings.ENV_IMAGE);
    // DJL Serving's LMI images are tagged <version>-lmi (vLLM backend and the adapter API).
    assertTrue(image.matches("deepjavalibrary/djl-serving:[0-9]+\\.[0-9]+\\.[0-9]+-lmi"), image);
    assertEquals(AdapterDeploymentSettings.DEFAULT_IMAGE, image, "chart and operator defaults");
  }

  @Test
  void artifactStoreIsNotMountedInTheOperatorByDefault() {
    List<HasMetadata> objects = Charts.objects(Map.of());
    PodSpec pod = podSpecs(objects).get(0);
    assertTrue(
        pod.getVolumes().stream().allMatch(v -> v.getPersistentVolumeClaim() == null),
        "no PVC in the operator pod by default");
    AdapterDeploymentSettings settings =
        AdapterDeploymentSettings.fromEnv(env(operatorContainer(objects)));
    assertEquals(Path.of("/artifacts"), settings.artifactsRoot());
    // Without the mount, adapters are checked by Jobs of the trainer image the chart pins.
    assertEquals(
        FineTuneJobSettings.fromEnv(env(operatorContainer(objects))).trainerImage(),
        settings.checks().image());
    assertEquals("250m", settings.checks().cpu().toString());
  }

  @Test
  void artifactStoreMountWorksAlongsideOtherNamespacesAndServesOnlyTheReleaseNamespace() {
    List<HasMetadata> objects =
        Charts.objects(
            Map.of(
                "artifactStore.operatorMount.enabled",
                true,
                "watchNamespaces[0]",
                Charts.NAMESPACE,
                "watchNamespaces[1]",
                "team-b"));
    AdapterDeploymentSettings settings =
        AdapterDeploymentSettings.fromEnv(env(operatorContainer(objects)));
    assertEquals(Charts.NAMESPACE, settings.checks().mountNamespace());
    assertTrue(
        podSpecs(objects).get(0).getVolumes().stream()
            .anyMatch(v -> v.getPersistentVolumeClaim() != null));
  }

  @Test
  void artifactStoreMountIsReadOnlyAtTheArtifactsRoot() {
    List<HasMetadata> objects =
        Charts.objects(
            Map.of(
                "artifactStore.operatorMount.enabled",
                true,
                "watchNamespaces[0]",
                Charts.NAMESPACE,
                "artifactStore.operatorMount.path",
                "/data/artifacts",
                "artifactStore.claimName",
                "team-artifacts"));
    PodSpec pod = podSpecs(objects).get(0);
    Container operator = operatorContainer(objects);
    Volume volume =
        pod.getVolumes().stream()
            .filter(v -> v.getPersistentVolumeClaim() != null)
            .findFirst()
            .orElseThrow(() -> new AssertionError("no PVC volume: " + pod.getVolumes()));
    assertEquals("team-artifacts", volume.getPersistentVolumeClaim().getClaimName());
    assertEquals(Boolean.TRUE, volume.getPersistentVolumeClaim().getReadOnly(), "claim readOnly");
    VolumeMount mount =
        operator.getVolumeMounts().stream()
            .filter(m -> m.getName().equals(volume.getName()))
            .findFirst()
            .orElseThrow();
    assertEquals(Boolean.TRUE, mount.getReadOnly(), "mount readOnly");
    AdapterDeploymentSettings serving = AdapterDeploymentSettings.fromEnv(env(operator));
    // The reconciler looks for adapter folders exactly where the volume is mounted.
    assertEquals(Path.of(mount.getMountPath()), serving.artifactsRoot());
    assertEquals("team-artifacts", serving.artifactClaimName());
  }

  @Test
  void defaultsAreClusterWideWithoutLeaderElection() {
    List<HasMetadata> objects = Charts.objects(Map.of());
    assertEquals(
        List.of("kt-kubetune"), names(Charts.ofType(objects, ClusterRole.class)), "ClusterRoles");
    ClusterRoleBinding binding = Charts.ofType(objects, ClusterRoleBinding.class).get(0);
    assertEquals("kt-kubetune", binding.getSubjects().get(0).getName());
    assertEquals(Charts.NAMESPACE, binding.getSubjects().get(0).getNamespace());
    assertEquals(List.of(), Charts.ofType(objects, Role.class), "no Roles without leader election");
    assertEquals(List.of(), Charts.ofType(objects, PodDisruptionBudget.class));
    Deployment deployment = Charts.ofType(objects, Deployment.class).get(0);
    assertEquals("Recreate", deployment.getSpec().getStrategy().getType());
    Map<String, String> env = env(operatorContainer(objects));
    assertEquals("false", env.get(OperatorSettings.LEADER_ELECTION));
    assertEquals("", env.get(OperatorSettings.WATCH_NAMESPACES));
    assertTrue(OperatorSettings.fromEnv(env).watchesAllNamespaces());
  }

  @Test
  void clusterRoleGrantsWhatTheReconcilersNeed() {
    List<PolicyRule> rules = rules(Charts.objects(Map.of()));
    assertAllowed(rules, "kubetune.io", "finetunejobs", "get", "list", "watch");
    assertAllowed(rules, "kubetune.io", "finetunejobs/status", "patch", "update");
    assertAllowed(rules, "kubetune.io", "finetunejobs/finalizers", "update");
    assertAllowed(rules, "kubetune.io", "adapterdeployments", "get", "list", "watch");
    assertAllowed(rules, "kubetune.io", "adapterdeployments/status", "patch", "update");
    // The per-job progress Role grants get/patch/update on a ConfigMap; RBAC escalation
    // prevention only lets the operator create it while it holds those verbs itself.
    assertAllowed(rules, "", "configmaps", "get", "patch", "update", "create", "delete");
    assertAllowed(rules, "", "serviceaccounts", "get", "create", "delete");
    assertAllowed(rules, "rbac.authorization.k8s.io", "roles", "get", "create", "update");
    assertAllowed(rules, "rbac.authorization.k8s.io", "rolebindings", "get", "create", "update");
    assertAllowed(rules, "batch", "jobs", "get", "list", "watch", "create", "delete");
    assertAllowed(rules, "", "pods", "get", "list", "watch");
    assertDenied(rules, "", "pods", "create", "delete", "update", "patch");
    assertAllowed(rules, "", "persistentvolumeclaims", "get", "list", "watch", "create");
    assertDenied(rules, "", "persistentvolumeclaims", "delete", "update", "patch");
    assertAllowed(rules, "", "events", "create");
    assertAllowed(rules, "apps", "deployments", "get", "list", "watch", "create", "update");
    assertAllowed(rules, "", "services", "get", "list", "watch", "create", "update");
    assertAllowed(
        rules, "networking.k8s.io", "networkpolicies", "get", "watch", "create", "update");
    // Serving children are removed by the garbage collector with their AdapterDeployment.
    assertDenied(rules, "apps", "deployments", "delete", "deletecollection");
    assertDenied(rules, "", "services", "delete", "deletecollection");
    assertDenied(rules, "networking.k8s.io", "networkpolicies", "delete", "deletecollection");
    assertDenied(rules, "kubetune.io", "adapterdeployments", "create", "update", "patch", "delete");
    assertDenied(rules, "kubetune.io", "finetunejobs", "create", "update", "patch", "delete");
  }

  @Test
  void watchNamespacesRenderOnlyNamespacedRoles() {
    List<HasMetadata> objects =
        Charts.objects(Map.of("watchNamespaces[0]", "team-a", "watchNamespaces[1]", "team-b"));
    assertEquals(List.of(), Charts.ofType(objects, ClusterRole.class), "ClusterRoles");
    assertEquals(List.of(), Charts.ofType(objects, ClusterRoleBinding.class));
    List<Role> roles = Charts.ofType(objects, Role.class);
    assertEquals(
        List.of("team-a", "team-b"),
        roles.stream().map(r -> r.getMetadata().getNamespace()).toList());
    List<RoleBinding> bindings = Charts.ofType(objects, RoleBinding.class);
    assertEquals(2, bindings.size());
    for (RoleBinding binding : bindings) {
      assertEquals("Role", binding.getRoleRef().getKind());
      assertEquals(Charts.NAMESPACE, binding.getSubjects().get(0).getNamespace());
    }
    assertAllowed(roles.get(0).getRules(), "batch", "jobs", "create");
    Map<String, String> env = env(operatorContainer(objects));
    assertEquals(Set.of("team-a", "team-b"), OperatorSettings.fromEnv(env).watchedNamespaces());
  }

  @Test
  void threeReplicasTurnOnLeaderElectionAndAPodDisruptionBudget() {
    List<HasMetadata> objects = Charts.objects(Map.of("replicas", 3));
    Deployment deployment = Charts.ofType(objects, Deployment.class).get(0);
    assertEquals(3, deployment.getSpec().getReplicas());
    assertEquals(
        0, deployment.getSpec().getStrategy().getRollingUpdate().getMaxUnavailable().getIntVal());
    assertNotNull(
        deployment.getSpec().getTemplate().getSpec().getAffinity().getPodAntiAffinity(),
        "replicas spread over nodes");
    Map<String, String> env = env(operatorContainer(objects));
    OperatorSettings settings = OperatorSettings.fromEnv(env);
    assertTrue(settings.leaderElection());
    assertEquals("kubetune-operator", settings.leaseName());

    PodDisruptionBudget pdb = Charts.ofType(objects, PodDisruptionBudget.class).get(0);
    assertEquals(1, pdb.getSpec().getMinAvailable().getIntVal());
    assertEquals(
        deployment.getSpec().getSelector().getMatchLabels(),
        pdb.getSpec().getSelector().getMatchLabels());

    Role lease =
        Charts.ofType(objects, Role.class).stream()
            .filter(r -> r.getMetadata().getName().endsWith("-leader-election"))
            .findFirst()
            .orElseThrow();
    assertEquals(Charts.NAMESPACE, lease.getMetadata().getNamespace());
    // The verbs JOSDK checks before campaigning (get, create, update), the by-name ones limited
    // to the one Lease.
    assertAllowed(lease.getRules(), "coordination.k8s.io", "leases", "get", "create", "update");
    for (PolicyRule rule : lease.getRules()) {
      if (rule.getVerbs().contains("get")) {
        assertEquals(List.of(settings.leaseName()), rule.getResourceNames());
      }
    }
    ClusterRole review =
        Charts.ofType(objects, ClusterRole.class).stream()
            .filter(r -> r.getMetadata().getName().endsWith("-self-review"))
            .findFirst()
            .orElseThrow();
    assertAllowed(review.getRules(), "authorization.k8s.io", "selfsubjectrulesreviews", "create");
  }

  @Test
  void leaderElectionStaysClusterScopedOnlyForTheSelfReview() {
    List<HasMetadata> objects = Charts.objects(Map.of("replicas", 2, "watchNamespaces[0]", "ml"));
    List<ClusterRole> clusterRoles = Charts.ofType(objects, ClusterRole.class);
    assertEquals(1, clusterRoles.size(), names(clusterRoles).toString());
    assertEquals(
        List.of("selfsubjectrulesreviews"),
        clusterRoles.get(0).getRules().stream().flatMap(r -> r.getResources().stream()).toList());
  }

  @Test
  void serviceMonitorScrapesTheMetricsService() {
    List<HasMetadata> objects = Charts.objects(Map.of("metrics.serviceMonitor.enabled", true));
    GenericKubernetesResource monitor =
        Charts.ofType(objects, GenericKubernetesResource.class).stream()
            .filter(o -> o.getKind().equals("ServiceMonitor"))
            .findFirst()
            .orElseThrow();
    Service service = Charts.ofType(objects, Service.class).get(0);
    Map<String, Object> endpoint = endpoints(monitor).get(0);
    assertEquals(service.getSpec().getPorts().get(0).getName(), endpoint.get("port"));
    assertEquals("/metrics", endpoint.get("path"));
    assertEquals(service.getSpec().getSelector(), selector(monitor));
    assertTrue(
        Charts.ofType(Charts.objects(Map.of()), GenericKubernetesResource.class).isEmpty(),
        "no ServiceMonitor by default");
  }

  @Test
  void digestWinsOverTag() {
    String digest = "sha256:" + "0123456789abcdef".repeat(4);
    Container operator =
        operatorContainer(
            Charts.objects(Map.of("image.digest", digest, "trainer.image.digest", digest)));
    assertEquals("ghcr.io/kubetune/operator@" + digest, operator.getImage());
    assertEquals(
        "ghcr.io/kubetune/trainer@" + digest, env(operator).get(FineTuneJobSettings.ENV_IMAGE));
  }

  /** Values that values.schema.json (or the templates) must reject, with the key it names. */
  static Stream<Arguments> badValues() {
    return Stream.of(
        Arguments.of(Map.of("replicas", 0), "replicas"),
        Arguments.of(Map.of("logFormat", "xml"), "logFormat"),
        Arguments.of(Map.of("image.tag", "latest"), "tag"),
        Arguments.of(Map.of("trainer.image.tag", ""), "/trainer/image"),
        Arguments.of(Map.of("image.digest", "sha256:abc"), "digest"),
        Arguments.of(Map.of("watchNamespaces[0]", "Team_A"), "watchNamespaces"),
        Arguments.of(Map.of("replica", 2), "replica"),
        Arguments.of(Map.of("artifactStore.size", "lots"), "size"),
        Arguments.of(Map.of("httpPort", 80), "httpPort"),
        Arguments.of(Map.of("trainer.pullPolicy", "Sometimes"), "pullPolicy"),
        Arguments.of(Map.of("replicas", 3, "leaderElection.enabled", false), "leaderElection"),
        Arguments.of(Map.of("metrics.serviceMonitor.interval", "often"), "interval"),
        Arguments.of(Map.of("serving.managementPort", 8080), "managementPort"),
        Arguments.of(Map.of("serving.image.tag", "latest"), "tag"),
        Arguments.of(Map.of("serving.runAsUser", 0), "runAsUser"),
        Arguments.of(Map.of("artifactStore.operatorMount.path", "artifacts"), "path"),
        // The operator pod can only mount its own namespace's PVC: useless if that namespace is
        // not watched.
        Arguments.of(
            Map.of("artifactStore.operatorMount.enabled", true, "watchNamespaces[0]", "team-b"),
            "watchNamespaces"),
        Arguments.of(Map.of("serving.adapterCheck.memory", "lots"), "memory"),
        Arguments.of(Map.of("serving.adapterCheck.deadlineSeconds", 0), "deadlineSeconds"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badValues")
  void badValuesFailTheInstall(Map<String, Object> values, String key) {
    Exception e = assertThrows(Exception.class, () -> Charts.render(values));
    assertTrue(
        e.getMessage().contains(key), () -> "message should name " + key + ": " + e.getMessage());
  }

  private static boolean isPinned(String image) {
    if (image.matches(".+@sha256:[a-f0-9]{64}")) {
      return true;
    }
    int slash = image.lastIndexOf('/');
    int colon = image.lastIndexOf(':');
    return colon > slash
        && !image.substring(colon + 1).isEmpty()
        && !image.substring(colon + 1).equals("latest");
  }

  /** Every environment variable the operator reads, from the settings classes' constants. */
  private static Set<String> variablesReadByTheOperator() {
    Set<String> names = new java.util.TreeSet<>();
    for (Class<?> type :
        List.of(
            OperatorSettings.class, FineTuneJobSettings.class, AdapterDeploymentSettings.class)) {
      for (Field field : type.getFields()) {
        if (Modifier.isStatic(field.getModifiers()) && field.getType() == String.class) {
          try {
            String value = (String) field.get(null);
            if (value.startsWith("KUBETUNE_") || value.equals(OperatorSettings.POD_NAME)) {
              names.add(value);
            }
          } catch (IllegalAccessException e) {
            throw new AssertionError(e);
          }
        }
      }
    }
    return names;
  }

  static List<PodSpec> podSpecs(List<HasMetadata> objects) {
    return Charts.ofType(objects, Deployment.class).stream()
        .map(d -> d.getSpec().getTemplate().getSpec())
        .toList();
  }

  static Container operatorContainer(List<HasMetadata> objects) {
    List<Deployment> deployments = Charts.ofType(objects, Deployment.class);
    assertEquals(1, deployments.size(), "one operator Deployment");
    return deployments.get(0).getSpec().getTemplate().getSpec().getContainers().get(0);
  }

  /** The container's environment; downward-API values appear as empty strings. */
  static Map<String, String> env(Container container) {
    Map<String, String> env = new LinkedHashMap<>();
    for (EnvVar var : container.getEnv()) {
      env.put(var.getName(), var.getValue() == null ? "" : var.getValue());
    }
    return env;
  }

  private static List<PolicyRule> rules(List<HasMetadata> objects) {
    List<PolicyRule> rules = new ArrayList<>();
    Charts.ofType(objects, ClusterRole.class).forEach(r -> rules.addAll(r.getRules()));
    Charts.ofType(objects, Role.class).forEach(r -> rules.addAll(r.getRules()));
    return rules;
  }

  private static Set<String> verbs(List<PolicyRule> rules, String group, String resource) {
    return rules.stream()
        .filter(r -> r.getApiGroups().contains(group) && r.getResources().contains(resource))
        .flatMap(r -> r.getVerbs().stream())
        // A wildcard grants every verb; rbacHasNoWildcardsAndNoSecrets rejects it separately.
        .flatMap(v -> v.equals("*") ? ALL_VERBS.stream() : Stream.of(v))
        .collect(Collectors.toSet());
  }

  private static void assertAllowed(
      List<PolicyRule> rules, String group, String resource, String... verbs) {
    Set<String> granted = verbs(rules, group, resource);
    assertTrue(
        granted.containsAll(List.of(verbs)),
        () -> group + "/" + resource + " grants " + granted + ", needs " + List.of(verbs));
  }

  private static void assertDenied(
      List<PolicyRule> rules, String group, String resource, String... verbs) {
    Set<String> granted = verbs(rules, group, resource);
    for (String verb : verbs) {
      assertFalse(granted.contains(verb), group + "/" + resource + " must not grant " + verb);
    }
  }

  private static String path(Probe probe) {
    assertNotNull(probe, "probe");
    return probe.getHttpGet().getPath();
  }

  private static List<String> names(List<? extends HasMetadata> objects) {
    return objects.stream().map(o -> o.getMetadata().getName()).toList();
  }

  @SuppressWarnings("unchecked")
  private static List<Map<String, Object>> endpoints(GenericKubernetesResource monitor) {
    Map<String, Object> spec = (Map<String, Object>) monitor.getAdditionalProperties().get("spec");
    return (List<Map<String, Object>>) spec.get("endpoints");
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> selector(GenericKubernetesResource monitor) {
    Map<String, Object> spec = (Map<String, Object>) monitor.getAdditionalProperties().get("spec");
    return (Map<String, Object>) ((Map<String, Object>) spec.get("selector")).get("matchLabels");
  }
}
