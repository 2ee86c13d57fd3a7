package dev.ditfn.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ditfn.config.Device;
import dev.ditfn.engine.GenerationParams;
import dev.ditfn.engine.GenerationResult;
import dev.ditfn.engine.Latents;
import dev.ditfn.engine.PipelineParts;
import dev.ditfn.engine.image.RgbImage;
import dev.ditfn.model.qwenimage.QwenImagePipeline;
import dev.ditfn.model.qwenimage.QwenImageVaeConfig;
import dev.ditfn.model.qwenimage.QwenImageVaeDecoder;
import dev.ditfn.model.qwenimage.VaePixels;
import dev.ditfn.model.text.PromptTemplate;
import dev.ditfn.model.text.QwenPromptEncoder;
import dev.ditfn.model.text.QwenTextEncoderConfig;
import dev.ditfn.onnx.DType;
import dev.ditfn.onnx.WeightQuantization;
import dev.ditfn.runtime.ModelSession;
import dev.ditfn.runtime.OrtRuntime;
import dev.ditfn.runtime.Tensors;
import dev.ditfn.scheduler.FlowMatchEulerScheduler;
import dev.ditfn.weights.DiffusersSnapshot;
import dev.ditfn.weights.WeightStore;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code trace}: one uncached Qwen-Image text-to-image run, written out with its inputs as {@code .npy} files, so that
 * an independent implementation (tools/train/crosscheck.py) can rerun it from the same token ids, noise and sigmas
 * and compare the prompt embeddings, the VAE decoder alone and the final image.
 */
public final class TraceCommand {
    public static final String USAGE = "usage: trace --model DIR --prompt TEXT [--negative-prompt TEXT] "
            + "[--cfg-scale 4] [--steps 20] [--seed 1] [--size 64] --out DIR";
    private static final Set<String> OPTIONS = Set.of("model", "prompt", "negative-prompt", "cfg-scale", "steps",
            "seed", "size", "out");

    private TraceCommand() {
    }

    public static int main(String... args) {
        try {
            Path out = run(new Args(args, OPTIONS));
            System.out.println("trace written to " + out.toAbsolutePath());
            return 0;
        } catch (IllegalArgumentException e) {
            System.err.println("trace: " + e.getMessage());
            System.err.println(USAGE);
            return 2;
        } catch (IOException | RuntimeException e) {
            System.err.println("trace failed: " + e);
            return 1;
        }
    }

    private static Path run(Args a) throws IOException {
        Path model = require(a.path("model"), "--model");
        Path out = require(a.path("out"), "--out");
        String prompt = require(a.get("prompt", null), "--prompt");
        String negative = a.get("negative-prompt", null);
        int steps = a.integer("steps", 20);
        long seed = Long.parseLong(a.get("seed", "1").trim());
        int size = a.integer("size", 64);
        float scale = (float) a.number("cfg-scale", 4);
        Files.createDirectories(out);
        try (BenchHarness harness = BenchHarness.open(model, null, Device.cpu, List.of(), scale,
                BenchHarness.DEFAULT_EDIT_AREA)) {
            if (!(harness.pipeline() instanceof QwenImagePipeline pipeline)) {
                throw new IllegalArgumentException("trace takes a Qwen-Image text-to-image snapshot");
            }
            if (size < pipeline.sizeMultiple() || size % pipeline.sizeMultiple() != 0) {
                throw new IllegalArgumentException("--size must be a multiple of " + pipeline.sizeMultiple()
                        + ", was " + size);
            }
            GenerationParams p = harness.params(prompt, seed, steps, size, size, Map.of("backend", "none"));
            p = new GenerationParams(prompt, negative, size, size, steps, scale,
                    pipeline.requestDefaults().cfg(scale, negative), seed, 1, p.format(), p.cache(),
                    p.cacheConfig(), false);
            GenerationResult result = harness.generate(p, null);
            BufferedImage image = BenchHarness.image(result);
            Npy.write(out.resolve("image.npy"), RgbImage.of(image).rgb(), size, size, 3);
            writeInputs(model, pipeline, p, out);
            ObjectNode meta = new ObjectMapper().createObjectNode().put("prompt", prompt)
                    .put("negative_prompt", negative).put("cfg", p.cfg()).put("cfg_scale", scale)
                    .put("steps", steps).put("seed", seed).put("width", size).put("height", size);
            new ObjectMapper().writerWithDefaultPrettyPrinter().writeValue(out.resolve("meta.json").toFile(), meta);
        }
        return out;
    }

    /** Token ids, prompt rows, noise, sigmas and a VAE probe, computed by separately loaded parts of the snapshot. */
    private static void writeInputs(Path model, QwenImagePipeline pipeline, GenerationParams p, Path out)
            throws IOException {
        DiffusersSnapshot snapshot = DiffusersSnapshot.open(model);
        OrtRuntime runtime = pipeline.runtime();
        try (PipelineParts parts = new PipelineParts()) {
            QwenPromptEncoder encoder = QwenPromptEncoder.load(snapshot, runtime, parts,
                    QwenTextEncoderConfig.fromJson(snapshot.config("text_encoder")), WeightQuantization.NONE,
                    PromptTemplate.QWEN_IMAGE, s -> { });
            writePrompt(encoder, p.prompt(), "prompt", out);
            if (p.cfg()) {
                writePrompt(encoder, p.negativePrompt(), "negative", out);
            }
            QwenImageVaeConfig vae = QwenImageVaeConfig.fromJson(snapshot.config("vae"));
            int h = p.height() / vae.scaleFactor();
            int w = p.width() / vae.scaleFactor();
            Npy.write(out.resolve("noise.npy"), Latents.noise(p.seed(), vae.zDim(), h, w), 1, vae.zDim(), h, w);
            var scheduler = new FlowMatchEulerScheduler(
                    FlowMatchEulerScheduler.Config.fromJson(snapshot.config("scheduler")));
            float[] sigmas = scheduler.sigmas(p.steps(), (h / 2) * (w / 2));
            Npy.write(out.resolve("sigmas.npy"), sigmas, sigmas.length);
            writeVaeProbe(runtime, parts, snapshot, vae, h, w, out);
        }
    }

    private static void writePrompt(QwenPromptEncoder encoder, String text, String name, Path out) throws IOException {
        long[] ids = PromptTemplate.QWEN_IMAGE.templateIds(encoder.tokenizer(), text);
        Npy.write(out.resolve(name + "_ids.npy"), ids, ids.length);
        QwenPromptEncoder.Rows rows = encoder.encode(text);
        Npy.write(out.resolve(name + "_embeds.npy"), rows.values(), rows.length(),
                rows.values().length / rows.length());
    }

    /** A fixed normalised latent (noise of seed 7, scaled down) and the decoder's float image for it. */
    private static void writeVaeProbe(OrtRuntime runtime, PipelineParts parts, DiffusersSnapshot snapshot,
            QwenImageVaeConfig vae, int h, int w, Path out) throws IOException {
        float[] latent = Latents.noise(7, vae.zDim(), h, w);
        for (int i = 0; i < latent.length; i++) {
            latent[i] *= 0.5f;
        }
        long[] shape = {1, vae.zDim(), h, w};
        Npy.write(out.resolve("vae_probe_in.npy"), latent, shape);
        WeightStore weights = parts.weights(snapshot.weights("vae"));
        ModelSession session = parts.own(runtime.createSession(
                new QwenImageVaeDecoder(vae).build(runtime.device().target(), weights), weights));
        try (OnnxTensor z = Tensors.of(runtime.env(), DType.FLOAT32, VaePixels.denormalize(latent, shape, vae), shape);
                OrtSession.Result r = session.run(Map.of(QwenImageVaeDecoder.INPUT, z))) {
            Npy.write(out.resolve("vae_probe_out.npy"), Tensors.floats(r.get(0)), 1, 3,
                    (long) vae.scaleFactor() * h, (long) vae.scaleFactor() * w);
        } catch (OrtException e) {
            throw new IllegalStateException("VAE decoder failed: " + e.getMessage(), e);
        }
    }

    private static <T> T require(T value, String option) {
        if (value == null) {
            throw new IllegalArgumentException("missing " + option);
        }
        return value;
    }
}
