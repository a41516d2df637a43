package io.kubetune.operator.bench;

import io.fabric8.kubernetes.client.server.mock.KubernetesAttributesExtractor;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesResponseComposer;
import io.fabric8.mockwebserver.crud.Attribute;
import io.fabric8.mockwebserver.crud.AttributeSet;
import io.fabric8.mockwebserver.crud.AttributeType;
import io.fabric8.mockwebserver.crud.CrudDispatcher;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.lang.reflect.Field;
import java.net.HttpURLConnection;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReadWriteLock;

/**
 * fabric8's CRUD mock dispatcher with its store indexed by plural, namespace and name.
 *
 * <p>The stock {@link KubernetesCrudDispatcher} answers every get, create and patch by testing each
 * stored object against the request's attributes, so in a benchmark its cost grows with the number
 * of stored objects and swamps the operator's own cost. This subclass keeps the same store (a map
 * from attribute set to JSON), the same handlers (create, update, patch, status subresource,
 * resourceVersion conflicts, watches, delete) and the same matching rule ({@link
 * AttributeSet#matches}); it only narrows the objects it tests to those whose plural, namespace and
 * name can match, using an index kept beside the store. Anything it cannot narrow (wildcards,
 * set-based selectors on those attributes, watches, deletes, discovery) goes to the stock code.
 *
 * <p>It also counts requests by client (User-Agent), verb and resource, so the benchmark can report
 * API round trips per FineTuneJob.
 */
public final class IndexedCrudDispatcher extends KubernetesCrudDispatcher {
  private static final String NONE = "";

  private final IndexedStore store;
  private final Lock readLock;
  private final AtomicLong resourceVersion;
  private final KubernetesResponseComposer composer = new KubernetesResponseComposer();
  private final Map<String, LongAdder> requests = new ConcurrentHashMap<>();

  public IndexedCrudDispatcher() {
    try {
      Field mapField = CrudDispatcher.class.getDeclaredField("map");
      mapField.setAccessible(true);
      @SuppressWarnings("unchecked")
      Map<AttributeSet, String> original = (Map<AttributeSet, String>) mapField.get(this);
      store = new IndexedStore(original);
      mapField.set(this, store);
      Field lockField = KubernetesCrudDispatcher.class.getDeclaredField("lock");
      lockField.setAccessible(true);
      readLock = ((ReadWriteLock) lockField.get(this)).readLock();
      Field rvField = KubernetesCrudDispatcher.class.getDeclaredField("resourceVersion");
      rvField.setAccessible(true);
      resourceVersion = (AtomicLong) rvField.get(this);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("fabric8 mock server internals changed", e);
    }
  }

  @Override
  public MockResponse dispatch(RecordedRequest request) {
    count(request);
    return super.dispatch(request);
  }

  @Override
  public Map.Entry<AttributeSet, String> findResource(AttributeSet attributes) {
    for (AttributeSet key : store.candidates(attributes)) {
      if (key.matches(attributes)) {
        String value = store.get(key);
        if (value != null) {
          return new AbstractMap.SimpleImmutableEntry<>(key, value);
        }
      }
    }
    return null;
  }

  @Override
  public MockResponse handleGet(String path) {
    if (path.contains("watch=true")) {
      return super.handleGet(path);
    }
    AttributeSet query = attributeExtractor.fromPath(path);
    if (!store.canNarrow(query)) {
      return super.handleGet(path);
    }
    List<String> items = new ArrayList<>();
    String version;
    readLock.lock();
    try {
      for (AttributeSet key : store.candidates(query)) {
        if (key.matches(query)) {
          String value = store.get(key);
          if (value != null) {
            items.add(value);
          }
        }
      }
      version = String.valueOf(resourceVersion.get());
    } finally {
      readLock.unlock();
    }
    if (query.containsKey(KubernetesAttributesExtractor.NAME)) {
      return items.isEmpty()
          ? new MockResponse().setResponseCode(HttpURLConnection.HTTP_NOT_FOUND)
          : new MockResponse().setResponseCode(HttpURLConnection.HTTP_OK).setBody(items.get(0));
    }
    if (items.isEmpty()) {
      // An empty list may be an API discovery request: the stock code knows those.
      return super.handleGet(path);
    }
    return new MockResponse()
        .setResponseCode(HttpURLConnection.HTTP_OK)
        .setBody(composer.compose(items, version));
  }

  /** Requests so far, by "client verb resource", sorted. */
  public Map<String, Long> requestCounts() {
    Map<String, Long> counts = new TreeMap<>();
    requests.forEach((k, v) -> counts.put(k, v.sum()));
    return counts;
  }

  /** Forgets the counted requests. */
  public void resetCounts() {
    requests.clear();
  }

  private void count(RecordedRequest request) {
    String path = request.getPath() == null ? "" : request.getPath();
    String client = request.getHeader("User-Agent");
    client = client != null && client.startsWith("bench-") ? client : "operator";
    String verb = request.getMethod();
    if ("GET".equals(verb)) {
      verb = path.contains("watch=true") ? "WATCH" : "GET";
    }
    AttributeSet key = attributeExtractor.fromPath(path);
    String plural = single(key, KubernetesAttributesExtractor.PLURAL);
    String resource = plural == null ? "?" : plural;
    if (path.split("\\?", 2)[0].endsWith("/status")) {
      resource += "/status";
    } else if ("GET".equals(verb) && single(key, KubernetesAttributesExtractor.NAME) == null) {
      verb = "LIST";
    }
    requests
        .computeIfAbsent(client + " " + verb + " " + resource, k -> new LongAdder())
        .increment();
  }

  /** The single literal value of {@code name} in {@code set}, or null (absent, wildcard, set). */
  static String single(AttributeSet set, String name) {
    Attribute attribute = set.getAttribute(name);
    if (attribute == null
        || attribute.getType() != AttributeType.WITH
        || attribute.getValues().size() != 1) {
      return null;
    }
    String value = attribute.getValues().get(0).toString();
    return value == null || "*".equals(value) ? null : value;
  }

  /**
   * The stock store (insertion-ordered map from attributes to JSON) plus an index plural →
   * namespace → name → keys. Mutated only through put, remove and clear, under the dispatcher's
   * write lock, exactly as the stock map is.
   */
  static final class IndexedStore extends AbstractMap<AttributeSet, String> {
    private final Map<AttributeSet, String> delegate;
    private final Map<String, Map<String, Map<String, Set<AttributeSet>>>> index =
        new ConcurrentHashMap<>();
    // Keys without a literal plural, namespace or name: every query must consider them.
    private final Set<AttributeSet> unindexed = ConcurrentHashMap.newKeySet();

    IndexedStore(Map<AttributeSet, String> original) {
      delegate = Collections.synchronizedMap(new LinkedHashMap<>());
      original.forEach(this::put);
    }

    @Override
    public String get(Object key) {
      return delegate.get(key);
    }

    @Override
    public boolean containsKey(Object key) {
      return delegate.containsKey(key);
    }

    @Override
    public int size() {
      return delegate.size();
    }

    @Override
    public String put(AttributeSet key, String value) {
      String old = delegate.put(key, value);
      if (old == null) {
        String plural = single(key, KubernetesAttributesExtractor.PLURAL);
        String name = single(key, KubernetesAttributesExtractor.NAME);
        if (plural == null
            || name == null
            || wildcard(key, KubernetesAttributesExtractor.NAMESPACE)) {
          unindexed.add(key);
        } else {
          index
              .computeIfAbsent(plural, p -> new ConcurrentHashMap<>())
              .computeIfAbsent(namespace(key), n -> new ConcurrentHashMap<>())
              .computeIfAbsent(name, n -> Collections.synchronizedSet(new LinkedHashSet<>()))
              .add(key);
        }
      }
      return old;
    }

    @Override
    public String remove(Object key) {
      String old = delegate.remove(key);
      if (old != null && key instanceof AttributeSet set && !unindexed.remove(set)) {
        Map<String, Map<String, Set<AttributeSet>>> byNamespace =
            index.get(single(set, KubernetesAttributesExtractor.PLURAL));
        Map<String, Set<AttributeSet>> byName =
            byNamespace == null ? null : byNamespace.get(namespace(set));
        Set<AttributeSet> keys =
            byName == null ? null : byName.get(single(set, KubernetesAttributesExtractor.NAME));
        if (keys != null) {
          keys.remove(set);
          if (keys.isEmpty()) {
            byName.remove(single(set, KubernetesAttributesExtractor.NAME));
          }
        }
      }
      return old;
    }

    @Override
    public void clear() {
      delegate.clear();
      index.clear();
      unindexed.clear();
    }

    @Override
    public Set<Entry<AttributeSet, String>> entrySet() {
      // Read-only: every mutation must go through put/remove/clear to keep the index right.
      return Collections.unmodifiableMap(delegate).entrySet();
    }

    /** Whether the query names a literal plural, so {@link #candidates} is narrower than all. */
    boolean canNarrow(AttributeSet query) {
      return single(query, KubernetesAttributesExtractor.PLURAL) != null;
    }

    /**
     * Keys that may match {@code query}: a superset of the matching keys, never missing one. The
     * caller still applies {@link AttributeSet#matches}.
     */
    Collection<AttributeSet> candidates(AttributeSet query) {
      String plural = single(query, KubernetesAttributesExtractor.PLURAL);
      if (plural == null) {
        return new ArrayList<>(delegate.keySet());
      }
      List<AttributeSet> out = new ArrayList<>(unindexed);
      Map<String, Map<String, Set<AttributeSet>>> byNamespace = index.get(plural);
      if (byNamespace == null) {
        return out;
      }
      String namespace = single(query, KubernetesAttributesExtractor.NAMESPACE);
      String name = single(query, KubernetesAttributesExtractor.NAME);
      Collection<Map<String, Set<AttributeSet>>> namespaces =
          namespace == null
              ? byNamespace.values()
              : List.of(byNamespace.getOrDefault(namespace, Map.of()));
      for (Map<String, Set<AttributeSet>> byName : namespaces) {
        if (name != null) {
          addAll(out, byName.get(name));
        } else {
          byName.values().forEach(keys -> addAll(out, keys));
        }
      }
      return out;
    }

    private static void addAll(List<AttributeSet> out, Set<AttributeSet> keys) {
      if (keys != null) {
        synchronized (keys) {
          out.addAll(keys);
        }
      }
    }

    private static String namespace(AttributeSet key) {
      String ns = single(key, KubernetesAttributesExtractor.NAMESPACE);
      return ns == null ? NONE : ns;
    }

    private static boolean wildcard(AttributeSet key, String name) {
      return key.getAttribute(name) != null && single(key, name) == null;
    }
  }
}
