package io.kubetune.operator.chart;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.javaoperatorsdk.operator.api.config.BaseConfigurationService;
import io.javaoperatorsdk.operator.api.config.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.Workflow;
import io.javaoperatorsdk.operator.api.reconciler.dependent.Dependent;
import io.javaoperatorsdk.operator.processing.dependent.BulkDependentResource;
import io.javaoperatorsdk.operator.processing.dependent.Creator;
import io.javaoperatorsdk.operator.processing.dependent.Updater;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependentResource;
import io.javaoperatorsdk.operator.processing.event.source.IndexerResourceCache;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.kubetune.operator.adapter.AdapterDeploymentReconciler;
import io.kubetune.operator.adapter.AdapterDeploymentSettings;
import io.kubetune.operator.finetune.FineTuneJobReconciler;
import io.kubetune.operator.finetune.FineTuneJobSettings;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Proxy;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The chart's RBAC grants what the reconcilers' dependent resources and informers do, read from
 * their {@code @Workflow} annotations and from the event sources they prepare: a dependent or
 * informer added without a matching rule fails here instead of with "forbidden" in a user's
 * cluster. Both the cluster-wide and the namespaced rules are checked.
 */
class RbacCoversReconcilersTest {

  /** Every reconciler the operator registers (extend when a reconciler is added). */
  private static final List<Class<? extends Reconciler<?>>> RECONCILERS =
      List.of(FineTuneJobReconciler.class, AdapterDeploymentReconciler.class);

  /** Instances of {@link #RECONCILERS}, whose event sources are prepared (never started). */
  private static List<Reconciler<?>> instances() {
    return List.of(
        new FineTuneJobReconciler(FineTuneJobSettings.defaults()),
        new AdapterDeploymentReconciler(AdapterDeploymentSettings.defaults()));
  }

  @Test
  void clusterRoleCoversEveryDependent() {
    List<PolicyRule> rules = new ArrayList<>();
    Charts.ofType(Charts.objects(Map.of()), ClusterRole.class)
        .forEach(r -> rules.addAll(r.getRules()));
    assertEquals(Set.of(), missing(rules));
  }

  @Test
  void namespacedRolesCoverEveryDependent() {
    for (Role role :
        Charts.ofType(Charts.objects(Map.of("watchNamespaces[0]", "team-a")), Role.class)) {
      assertEquals(Set.of(), missing(role.getRules()), role.getMetadata().getName());
    }
  }

  private static Set<String> missing(List<PolicyRule> rules) {
    Set<String> missing = new TreeSet<>();
    int dependents = 0;
    for (Class<? extends Reconciler<?>> reconciler : RECONCILERS) {
      Workflow workflow = reconciler.getAnnotation(Workflow.class);
      for (Dependent dependent : workflow.dependents()) {
        dependents++;
        Class<? extends HasMetadata> resource = resourceType(dependent.type());
        String group = HasMetadata.getGroup(resource);
        String plural = HasMetadata.getPlural(resource);
        // The dependent's informer lists and watches; creating and updating follow its traits.
        List<String> verbs = new ArrayList<>(List.of("get", "list", "watch"));
        if (Creator.class.isAssignableFrom(dependent.type())) {
          verbs.add("create");
        }
        if (Updater.class.isAssignableFrom(dependent.type())) {
          verbs.addAll(List.of("update", "patch"));
        }
        // A bulk dependent deletes the resources it no longer wants (e.g. stale check Jobs).
        if (BulkDependentResource.class.isAssignableFrom(dependent.type())) {
          verbs.add("delete");
        }
        for (String verb : verbs) {
          if (!allows(rules, group, plural, verb)) {
            missing.add(
                dependent.type().getSimpleName() + ": " + verb + " " + group + "/" + plural);
          }
        }
      }
    }
    assertTrue(dependents > 0, "no dependents found: is the @Workflow still there?");
    List<Reconciler<?>> instances = instances();
    assertEquals(
        RECONCILERS, instances.stream().map(Object::getClass).toList(), "instances() is stale");
    int informers = 0;
    for (Reconciler<?> reconciler : instances) {
      // The primary resource: watched, its status patched.
      Class<? extends HasMetadata> primary =
          new BaseConfigurationService().getConfigurationFor(reconciler).getResourceClass();
      String group = HasMetadata.getGroup(primary);
      String plural = HasMetadata.getPlural(primary);
      String name = reconciler.getClass().getSimpleName();
      for (String verb : List.of("get", "list", "watch")) {
        check(rules, missing, name + " primary", group, plural, verb);
      }
      check(rules, missing, name + " status", group, plural + "/status", "patch");
      for (Class<? extends HasMetadata> type : informedTypes(reconciler)) {
        informers++;
        for (String verb : List.of("list", "watch")) {
          check(
              rules,
              missing,
              name + " informer",
              HasMetadata.getGroup(type),
              HasMetadata.getPlural(type),
              verb);
        }
      }
    }
    // FineTuneJob: pods; AdapterDeployment: pods and FineTuneJobs.
    assertTrue(informers >= 3, "informers found: " + informers);
    return missing;
  }

  private static void check(
      List<PolicyRule> rules,
      Set<String> missing,
      String who,
      String group,
      String plural,
      String verb) {
    if (!allows(rules, group, plural, verb)) {
      missing.add(who + ": " + verb + " " + group + "/" + plural);
    }
  }

  /** The types of the informer event sources a reconciler prepares (not started). */
  @SuppressWarnings({"unchecked", "rawtypes"})
  private static List<Class<? extends HasMetadata>> informedTypes(Reconciler<?> reconciler) {
    ControllerConfiguration configuration =
        new BaseConfigurationService().getConfigurationFor((Reconciler) reconciler);
    IndexerResourceCache cache =
        (IndexerResourceCache)
            Proxy.newProxyInstance(
                IndexerResourceCache.class.getClassLoader(),
                new Class<?>[] {IndexerResourceCache.class},
                (proxy, method, args) -> null);
    // Building a client connects to nothing; informers are created here, never started.
    try (KubernetesClient client = new KubernetesClientBuilder().build()) {
      EventSourceContext context =
          new EventSourceContext(cache, configuration, client, configuration.getResourceClass());
      List<Class<? extends HasMetadata>> types = new ArrayList<>();
      // Other event sources (the adapter synchronizer's) do not talk to the API server.
      for (Object source : ((Reconciler) reconciler).prepareEventSources(context)) {
        if (source instanceof InformerEventSource<?, ?> informer) {
          types.add(informer.resourceType());
        }
      }
      return types;
    }
  }

  private static boolean allows(List<PolicyRule> rules, String group, String plural, String verb) {
    return rules.stream()
        .anyMatch(
            r ->
                r.getApiGroups().contains(group == null ? "" : group)
                    && r.getResources().contains(plural)
                    && r.getVerbs().contains(verb)
                    && (r.getResourceNames() == null || r.getResourceNames().isEmpty()));
  }

  /** The Kubernetes type a KubernetesDependentResource subclass manages. */
  @SuppressWarnings("unchecked")
  private static Class<? extends HasMetadata> resourceType(Class<?> dependent) {
    for (Class<?> c = dependent; c != null && c != Object.class; c = c.getSuperclass()) {
      Type generic = c.getGenericSuperclass();
      if (generic instanceof ParameterizedType type
          && KubernetesDependentResource.class.isAssignableFrom((Class<?>) type.getRawType())
          && type.getActualTypeArguments()[0] instanceof Class<?> resource
          && HasMetadata.class.isAssignableFrom(resource)) {
        return (Class<? extends HasMetadata>) resource;
      }
    }
    throw new AssertionError(dependent + " is not a KubernetesDependentResource");
  }
}
