package dev.ditfn.cache;

/** A guidance branch. Cache state is kept per branch, named explicitly, never inferred from call order. */
public enum Branch {
    cond,
    uncond
}
