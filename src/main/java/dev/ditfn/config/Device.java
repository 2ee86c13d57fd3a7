package dev.ditfn.config;

/** Where ORT runs the graphs. */
public enum Device {
    cpu,
    cuda,
    cann
}
