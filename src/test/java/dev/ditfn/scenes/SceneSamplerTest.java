package dev.ditfn.scenes;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SceneSamplerTest {
    @Test
    void sameSeedSameScenesAndCaptions() {
        for (int i = 0; i < 100; i++) {
            assertEquals(new SceneSampler(5).sample(i), new SceneSampler(5).sample(i));
        }
        assertFalse(new SceneSampler(5).stream(SceneSplit.TRAIN).limit(20).toList()
                .equals(new SceneSampler(6).stream(SceneSplit.TRAIN).limit(20).toList()));
    }

    @Test
    void captionsDescribeTheirScenes() {
        new SceneSampler(1).stream(SceneSplit.TRAIN).limit(1000)
                .forEach(s -> assertEquals(s.scene(), SceneCaption.parse(s.caption()).orElseThrow(), s.caption()));
    }

    @Test
    void mixesOneAndTwoObjectsAndShortCaptions() {
        List<CaptionedScene> scenes = new SceneSampler(2).stream(SceneSplit.TRAIN).limit(4000).toList();
        long single = scenes.stream().filter(s -> s.scene().objects().size() == 1).count();
        long largeCentred = scenes.stream().filter(s -> s.scene().objects().size() == 1
                && s.scene().objects().get(0).size() == SceneSize.LARGE
                && s.scene().objects().get(0).cell() == SceneCell.CENTER).count();
        long shortest = scenes.stream().filter(s -> s.caption().split(" ").length == 7).count();
        assertEquals(0.5, single / 4000.0, 0.04);
        assertEquals(0.25, largeCentred / (double) single, 0.04);
        assertTrue(shortest > 100, "short captions: " + shortest);
    }

    @Test
    void splitsAreDisjointAndHoldOutAboutATenth() {
        SceneSampler sampler = new SceneSampler(9);
        Set<Scene> train = new HashSet<>();
        sampler.stream(SceneSplit.TRAIN).limit(5000).forEach(s -> train.add(s.scene()));
        List<CaptionedScene> eval = sampler.stream(SceneSplit.EVAL).limit(500).toList();
        eval.forEach(s -> assertFalse(train.contains(s.scene()), s.caption()));
        long heldOut = java.util.stream.LongStream.range(0, 5000)
                .filter(i -> SceneSplit.EVAL.contains(sampler.sample(i).scene())).count();
        assertEquals(0.1, heldOut / 5000.0, 0.02);
    }

    @Test
    void evalStreamGivesDistinctScenes() {
        List<CaptionedScene> eval = new SceneSampler(4).stream(SceneSplit.EVAL).limit(300).toList();
        assertEquals(300, eval.stream().map(CaptionedScene::scene).distinct().count());
        for (CaptionedScene s : eval) {
            assertEquals(s.scene(), SceneCaption.parse(s.caption()).orElseThrow(), s.caption());
        }
        eval.forEach(s -> assertTrue(SceneSplit.EVAL.contains(s.scene())));
    }
}
