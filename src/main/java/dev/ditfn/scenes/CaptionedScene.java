package dev.ditfn.scenes;

/** A sampled scene with the caption it is trained or evaluated with. */
public record CaptionedScene(Scene scene, String caption) {
}
