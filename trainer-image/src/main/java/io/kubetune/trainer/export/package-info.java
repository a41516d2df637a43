/**
 * PEFT adapter folders: export after training, import for generation or evaluation, and the
 * training report written next to the adapter.
 */
package io.kubetune.trainer.export;
