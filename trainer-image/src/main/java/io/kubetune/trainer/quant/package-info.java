/**
 * QLoRA: frozen base projections stored as bitsandbytes-compatible 4-bit NormalFloat (NF4) blocks,
 * optionally with double-quantized constants, dequantized on the fly under trainable LoRA adapters.
 */
package io.kubetune.trainer.quant;
