/**
 * The kubetune API, group {@code kubetune.io}, version {@code v1alpha1}: {@link
 * io.kubetune.operator.api.v1alpha1.FineTuneJob} and {@link
 * io.kubetune.operator.api.v1alpha1.AdapterDeployment}.
 *
 * <p>Every field carries both Javadoc and a {@code @JsonPropertyDescription}: the generator turns
 * the latter into the CRD schema, which is what {@code kubectl explain} prints. Fields that the API
 * server defaults are also initialised in Java so that objects read from a server without
 * defaulting (or built in tests) behave the same.
 */
package io.kubetune.operator.api.v1alpha1;
