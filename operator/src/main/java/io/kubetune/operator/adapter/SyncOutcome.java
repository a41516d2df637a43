package io.kubetune.operator.adapter;

import io.kubetune.operator.modelserver.AdapterSynchronizer.SyncResult;
import java.time.Instant;

/**
 * A finished sync.
 *
 * @param request what was synced
 * @param result what the synchronizer reported
 * @param at when it finished
 */
record SyncOutcome(AdapterSyncEventSource.Request request, SyncResult result, Instant at) {}
