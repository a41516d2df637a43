/**
 * Reader and writer for the safetensors format: memory-mapped per tensor, with bf16/f16 widened in
 * Java because DJL's PyTorch JNI cannot hold bf16 arrays.
 */
package io.kubetune.trainer.safetensors;
