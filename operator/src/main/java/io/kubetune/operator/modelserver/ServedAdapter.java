package io.kubetune.operator.modelserver;

/**
 * One adapter as DJL Serving lists it.
 *
 * @param name served adapter name (what inference requests select)
 * @param src adapter folder inside the serving container
 * @param preload whether it was loaded at registration
 * @param pin whether it is pinned in GPU memory
 */
public record ServedAdapter(String name, String src, boolean preload, boolean pin) {}
