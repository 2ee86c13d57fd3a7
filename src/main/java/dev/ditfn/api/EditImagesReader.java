package dev.ditfn.api;

import dev.ditfn.engine.image.ImageInput;
import dev.ditfn.engine.image.ImageInputException;
import dev.ditfn.engine.image.RgbImage;

import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * An edit request's input images, decoded: base64 (or a {@code data:image/...;base64,} URL) to RGB, each refused with
 * a 400 naming {@code image} or {@code images[i]}: not base64, not PNG/JPEG/WebP, undecodable, or larger than the
 * configured pixel count (checked from the header, before decoding).
 */
public final class EditImagesReader {
    private final ImageInput decoder;

    public EditImagesReader(long maxPixels) {
        this.decoder = new ImageInput(maxPixels, ImageInput.AlphaRule.DROP);
    }

    /** The images of {@code r}, at most {@code max} of them. */
    List<RgbImage> read(EditRequest r, int max) {
        if (r.image() != null && r.images() != null) {
            throw new InvalidRequestException("images", "give either image or images, not both");
        }
        if (r.image() == null && r.images() == null) {
            throw new InvalidRequestException("image", "an edit needs an input image (image: base64 PNG, JPEG or"
                    + " WebP, or images: a list of them)");
        }
        if (r.images() != null) {
            checkCount("images", r.images().size(), max);
        }
        List<RgbImage> out = new ArrayList<>();
        if (r.image() != null) {
            out.add(decode("image", r.image()));
        } else {
            for (int i = 0; i < r.images().size(); i++) {
                String field = "images[" + i + "]";
                if (r.images().get(i) == null) {
                    throw new InvalidRequestException(field, "invalid_type", "must be a base64 string, was null");
                }
                out.add(decode(field, r.images().get(i)));
            }
        }
        return out;
    }

    /** Checks that {@code count} images fit a model taking at most {@code max}; {@code field} names them. */
    public static void checkCount(String field, int count, int max) {
        if (count < 1 || count > max) {
            throw new InvalidRequestException(field, "this model takes 1 to " + max + " input images, got " + count);
        }
    }

    /** One image's bytes (PNG, JPEG or WebP) decoded; {@code field} names it in errors. */
    public RgbImage decode(String field, byte[] bytes) {
        try {
            return decoder.decode(bytes);
        } catch (ImageInputException e) {
            throw new InvalidRequestException(field, e.code().wire(), e.getMessage());
        }
    }

    private RgbImage decode(String field, String base64) {
        String data = base64.strip();
        if (data.startsWith("data:")) {
            int comma = data.indexOf(',');
            if (comma < 0 || !data.substring(0, comma).endsWith(";base64")) {
                throw new InvalidRequestException(field, "a data URL must be data:<type>;base64,<data>");
            }
            data = data.substring(comma + 1);
        }
        byte[] bytes;
        try {
            // line breaks are allowed (MIME style); anything else outside the alphabet is an error
            bytes = Base64.getDecoder().decode(data.replaceAll("\\s+", ""));
        } catch (IllegalArgumentException e) {
            throw new InvalidRequestException(field, "is not valid base64: " + e.getMessage());
        }
        return decode(field, bytes);
    }
}
