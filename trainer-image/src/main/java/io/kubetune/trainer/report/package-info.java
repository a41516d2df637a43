/**
 * How the trainer tells the operator what it is doing: progress documents (one JSON line on stdout
 * always, and a throttled merge patch of the {@code <job>-progress} ConfigMap in a cluster) and the
 * final result or dataset report in the container termination message.
 */
package io.kubetune.trainer.report;
