package dev.toykvm.vmm;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;

/**
 * The images bundled in the {@code test-images} module ({@code dev.toykvm.images.TestImage}), and
 * the rule that turns the {@code IMAGE} argument into a {@link GuestImage}.
 *
 * <p>The module is reached by reflection, through its documented API only ({@code
 * TestImage.names()}, {@code TestImage.load(name)}, {@code bytes()}, and a description on the image
 * or its {@code manifest()}), so that the VMM builds and its other tests run while {@code
 * test-images} is still being written. Once it has landed this class should call it directly.
 */
public final class BundledImages {
  private static final String TEST_IMAGE = "dev.toykvm.images.TestImage";

  private BundledImages() {}

  /** One entry of {@code toykvm images}. */
  public record Entry(String name, String description) {}

  /**
   * Resolves the command line's {@code IMAGE}: a path to a {@code .bin} file (anything with a
   * slash, ending in {@code .bin}, or naming an existing file), otherwise a bundled image's name.
   *
   * @throws ImageException naming the image and why it cannot be loaded
   */
  public static GuestImage resolve(String image) {
    Path path = Path.of(image);
    if (image.contains("/") || image.endsWith(".bin") || Files.exists(path)) {
      return GuestImage.fromFile(path);
    }
    Class<?> api = api();
    if (api == null) {
      throw new ImageException(
          image,
          "no such file, and no bundled images are available (the test-images module is not on"
              + " the class path)");
    }
    if (!names(api).contains(image)) {
      throw new ImageException(
          image,
          "no such file and no bundled image of that name (toykvm images lists them: "
              + String.join(", ", names(api))
              + ")");
    }
    Object loaded = invokeStatic(api, "load", image, image);
    Object bytes = invokeOn(loaded, "bytes", image);
    if (!(bytes instanceof byte[] rom)) {
      throw new ImageException(
          image, "the test-images API changed: bytes() did not return a byte[]");
    }
    return new GuestImage(image, description(loaded), rom);
  }

  /** The bundled images with their descriptions, sorted by name; empty if test-images is absent. */
  public static List<Entry> list() {
    Class<?> api = api();
    if (api == null) {
      return List.of();
    }
    List<Entry> out = new ArrayList<>();
    for (String name : names(api).stream().sorted().toList()) {
      Object loaded = invokeStatic(api, "load", name, name);
      out.add(new Entry(name, description(loaded)));
    }
    return out;
  }

  /** Whether the test-images module is on the class path. */
  public static boolean available() {
    return api() != null;
  }

  private static Class<?> api() {
    try {
      return Class.forName(TEST_IMAGE, true, BundledImages.class.getClassLoader());
    } catch (ClassNotFoundException e) {
      return null;
    }
  }

  private static List<String> names(Class<?> api) {
    Object names = invokeStatic(api, "names", "(bundled images)");
    if (!(names instanceof Collection<?> c)) {
      throw new ImageException(
          "(bundled images)", "the test-images API changed: names() is not a collection");
    }
    return c.stream().map(Objects::toString).toList();
  }

  private static String description(Object image) {
    Object d = tryCall(image, "description");
    if (d == null) {
      Object manifest = tryCall(image, "manifest");
      d = manifest == null ? null : tryCall(manifest, "description");
    }
    return d == null ? "" : d.toString();
  }

  private static Object tryCall(Object target, String method) {
    try {
      Method m = target.getClass().getMethod(method);
      m.setAccessible(true);
      return m.invoke(target);
    } catch (ReflectiveOperationException | RuntimeException e) {
      return null;
    }
  }

  private static Object invokeStatic(Class<?> api, String method, String image, Object... args) {
    Class<?>[] types = new Class<?>[args.length];
    java.util.Arrays.fill(types, String.class);
    return invoke(api, null, method, types, image, args);
  }

  private static Object invokeOn(Object target, String method, String image) {
    return invoke(target.getClass(), target, method, new Class<?>[0], image);
  }

  private static Object invoke(
      Class<?> type,
      Object receiver,
      String method,
      Class<?>[] types,
      String image,
      Object... args) {
    try {
      Method m = type.getMethod(method, types);
      m.setAccessible(true);
      return m.invoke(receiver, args);
    } catch (InvocationTargetException e) {
      Throwable cause = e.getCause();
      String message = cause.getMessage() == null ? cause.toString() : cause.getMessage();
      // test-images already says "cannot load test image X: why"; do not say it twice.
      throw message.startsWith("cannot ")
          ? ImageException.withMessage(message)
          : new ImageException(image, message);
    } catch (ReflectiveOperationException e) {
      throw new ImageException(
          image, "the test-images API changed: " + method + "() is missing (" + e + ")");
    }
  }
}
