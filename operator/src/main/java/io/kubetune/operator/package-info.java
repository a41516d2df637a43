/** The kubetune operator: FineTuneJob and AdapterDeployment controllers. */
package io.kubetune.operator;
