package dev.ditfn.scenes;

import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;

/**
 * Train and held-out evaluation scenes: a scene is held out iff the CRC32 of its canonical caption is 0 mod 10, so
 * about a tenth of all scenes are never trained on, whatever the seed.
 */
public enum SceneSplit {
    TRAIN, EVAL;

    /** Whether {@code scene} belongs to this split. */
    public boolean contains(Scene scene) {
        CRC32 crc = new CRC32();
        crc.update(SceneCaption.canonical(scene).getBytes(StandardCharsets.UTF_8));
        boolean heldOut = crc.getValue() % 10 == 0;
        return heldOut == (this == EVAL);
    }
}
