package dev.ditfn.scenes;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.LongStream;
import java.util.stream.Stream;

/**
 * Random captioned scenes, each a pure function of (seed, index). Half the scenes have one object; colours, shapes
 * and sizes are uniform under the scene constraints, and so are the cells of two objects. A single object sits in
 * the center half the time, so that about a quarter of single objects are large and centred, the scenes whose
 * short captions ({@code a red circle on a blue background}) state neither size nor position. The phrasing is
 * uniform among those that word the scene differently.
 */
public final class SceneSampler {
    private static final SceneColour[] COLOURS = SceneColour.values();
    private static final SceneShape[] SHAPES = SceneShape.values();
    private static final SceneSize[] SIZES = SceneSize.values();
    private static final SceneCell[] CELLS = SceneCell.values();

    private final long seed;

    public SceneSampler(long seed) {
        this.seed = seed;
    }

    /** Scene {@code index} of this seed, whatever its split. */
    public CaptionedScene sample(long index) {
        SplittableRandom random = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + index);
        SceneColour background = pick(random, COLOURS);
        List<SceneObject> objects = new ArrayList<>();
        if (random.nextBoolean()) {
            SceneCell cell = random.nextBoolean() ? SceneCell.CENTER : otherCell(random, SceneCell.CENTER);
            objects.add(object(random, background, cell));
        } else {
            SceneCell first = pick(random, CELLS);
            objects.add(object(random, background, first));
            objects.add(object(random, background, otherCell(random, first)));
        }
        Scene scene = new Scene(background, objects);
        List<Phrasing> phrasings = Phrasing.distinctFor(scene);
        return new CaptionedScene(scene, SceneCaption.caption(scene, phrasings.get(random.nextInt(phrasings.size()))));
    }

    /**
     * The scenes of {@code split} in index order, endless. The eval stream skips scenes it already gave, so a
     * prefix of it is a set of distinct scenes; the train stream repeats scenes as sampling does.
     */
    public Stream<CaptionedScene> stream(SceneSplit split) {
        Stream<CaptionedScene> scenes = LongStream.iterate(0, i -> i + 1).mapToObj(this::sample)
                .filter(s -> split.contains(s.scene()));
        if (split == SceneSplit.EVAL) {
            Set<Scene> seen = new HashSet<>();
            scenes = scenes.filter(s -> seen.add(s.scene()));
        }
        return scenes;
    }

    private static SceneObject object(SplittableRandom random, SceneColour background, SceneCell cell) {
        SceneColour colour = pick(random, COLOURS);
        while (colour == background) {
            colour = pick(random, COLOURS);
        }
        return new SceneObject(pick(random, SHAPES), colour, pick(random, SIZES), cell);
    }

    private static SceneCell otherCell(SplittableRandom random, SceneCell taken) {
        SceneCell cell = pick(random, CELLS);
        while (cell == taken) {
            cell = pick(random, CELLS);
        }
        return cell;
    }

    private static <T> T pick(SplittableRandom random, T[] options) {
        return options[random.nextInt(options.length)];
    }
}
