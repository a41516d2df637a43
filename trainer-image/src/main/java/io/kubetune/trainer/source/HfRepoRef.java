package io.kubetune.trainer.source;

import java.util.regex.Pattern;

/**
 * A parsed {@code hf://org/name[@revision]} reference.
 *
 * @param repo the repository id, {@code org/name} (or {@code name} for the few unscoped repos)
 * @param revision the revision after {@code @}, or null when the URI names none
 */
public record HfRepoRef(String repo, String revision) {
  /** The URI scheme prefix of hub references. */
  public static final String SCHEME = "hf://";

  // The hub's own rule for repo name segments: letters, digits, '-', '_', '.', no leading '-'/'.'.
  private static final Pattern SEGMENT = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,95}");

  /** Whether {@code uri} is a hub reference. */
  public static boolean isHub(String uri) {
    return uri != null && uri.startsWith(SCHEME);
  }

  /**
   * Parses a hub reference.
   *
   * @throws ModelSourceException naming what is wrong with the URI
   */
  public static HfRepoRef parse(String uri) {
    if (!isHub(uri)) {
      throw new ModelSourceException(
          "baseModel.uri: '" + uri + "' is not an hf:// URI; write hf://org/name[@revision]");
    }
    String rest = uri.substring(SCHEME.length());
    String revision = null;
    int at = rest.indexOf('@');
    if (at >= 0) {
      revision = rest.substring(at + 1);
      rest = rest.substring(0, at);
      if (revision.isEmpty()) {
        throw new ModelSourceException(
            "baseModel.uri: '"
                + uri
                + "' has an empty revision after '@'; remove the '@' or name"
                + " a branch, tag or commit");
      }
      if (revision.contains("..") || revision.startsWith("/") || revision.endsWith("/")) {
        throw new ModelSourceException(
            "baseModel.uri: revision '" + revision + "' is not a valid branch, tag or commit");
      }
    }
    if (rest.endsWith("/")) {
      rest = rest.substring(0, rest.length() - 1);
    }
    String[] parts = rest.split("/", -1);
    if (parts.length < 1 || parts.length > 2) {
      throw new ModelSourceException(
          "baseModel.uri: '" + uri + "' must name a repository as hf://org/name[@revision]");
    }
    for (String part : parts) {
      if (!SEGMENT.matcher(part).matches() || part.contains("..")) {
        throw new ModelSourceException(
            "baseModel.uri: '"
                + uri
                + "' has an invalid repository name '"
                + part
                + "'; use letters, digits, '-', '_' and '.' as on huggingface.co");
      }
    }
    return new HfRepoRef(rest, revision);
  }
}
