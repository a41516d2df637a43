/**
 * Where the base model comes from: a local folder (a mounted {@code pvc://}) or the Hugging Face
 * hub ({@code hf://org/name[@revision]}), downloaded into a cache on the artifact store.
 */
package io.kubetune.trainer.source;
