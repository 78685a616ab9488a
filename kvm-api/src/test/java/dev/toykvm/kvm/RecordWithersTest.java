package dev.toykvm.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.lang.foreign.MemorySegment;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Every component of the KVM struct records has a {@code with*} method, and each changes exactly
 * its own component.
 */
class RecordWithersTest {

  static final List<Class<? extends Record>> RECORDS =
      List.of(
          KvmRegs.class,
          KvmSegment.class,
          KvmSregs.class,
          KvmDtable.class,
          KvmUserspaceMemoryRegion.class,
          KvmIoregion.class,
          KvmIoeventfd.class);

  /** One record component, and the wither that sets it. */
  record Component(Class<? extends Record> type, int index, RecordComponent component) {
    Method wither() throws NoSuchMethodException {
      String name = component.getName();
      return type.getMethod(
          "with" + Character.toUpperCase(name.charAt(0)) + name.substring(1), component.getType());
    }

    @Override
    public String toString() {
      return type.getSimpleName() + "." + component.getName();
    }
  }

  static List<Component> allComponents() {
    List<Component> all = new ArrayList<>();
    for (Class<? extends Record> type : RECORDS) {
      RecordComponent[] components = type.getRecordComponents();
      for (int i = 0; i < components.length; i++) {
        all.add(new Component(type, i, components[i]));
      }
    }
    return all;
  }

  @Provide
  Arbitrary<Component> components() {
    return Arbitraries.of(allComponents());
  }

  @Example
  void everyComponentHasAPublicDocumentedWither() throws NoSuchMethodException {
    for (Component c : allComponents()) {
      Method wither = c.wither();
      assertEquals(c.type(), wither.getReturnType(), c.toString());
      assertEquals(0, wither.getModifiers() & Modifier.STATIC, c + ": wither is static");
    }
  }

  @Property(tries = 2000)
  void witherChangesExactlyItsComponent(@ForAll("components") Component c, @ForAll Random random)
      throws ReflectiveOperationException {
    Record original = randomRecord(c.type(), random);
    Object oldValue = c.component().getAccessor().invoke(original);
    Object newValue = randomValue(c.component().getType(), random);
    while (newValue.equals(oldValue)) {
      newValue = randomValue(c.component().getType(), random);
    }

    Record changed = (Record) c.wither().invoke(original, newValue);

    RecordComponent[] components = c.type().getRecordComponents();
    for (int i = 0; i < components.length; i++) {
      Method accessor = components[i].getAccessor();
      Object expected = i == c.index() ? newValue : accessor.invoke(original);
      assertEquals(expected, accessor.invoke(changed), c + " changed " + components[i].getName());
    }
    assertNotEquals(original, changed);
    assertEquals(oldValue, c.component().getAccessor().invoke(original), "original changed");
  }

  @Property(tries = 500)
  void witherWithTheSameValueGivesAnEqualRecord(
      @ForAll("components") Component c, @ForAll Random random)
      throws ReflectiveOperationException {
    Record original = randomRecord(c.type(), random);
    Object value = c.component().getAccessor().invoke(original);
    assertEquals(original, c.wither().invoke(original, value), c.toString());
  }

  @Example
  void zeroConstantsAreAllZero() {
    assertEquals(new KvmRegs(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), KvmRegs.ZERO);
    assertEquals(
        new KvmSegment(0, 0, 0, 0, false, 0, false, false, false, false, false, false),
        KvmSegment.ZERO);
    assertEquals(
        new KvmUserspaceMemoryRegion(0, 0, 0, 0, MemorySegment.NULL),
        KvmUserspaceMemoryRegion.ZERO);
    assertEquals(new KvmIoregion(0, 0, 0, 0, 0, 0), KvmIoregion.ZERO);
    assertEquals(new KvmIoeventfd(0, 0, 0, 0, 0), KvmIoeventfd.ZERO);
    assertEquals(KvmRegs.reset(), KvmRegs.ZERO.withRflags(KvmConstants.X86_EFLAGS_FIXED));
  }

  @Property(tries = 200)
  void theOlderHelpersAgreeWithTheWithers(@ForAll Random random)
      throws ReflectiveOperationException {
    KvmSregs s = (KvmSregs) randomRecord(KvmSregs.class, random);
    KvmSegment seg = (KvmSegment) randomRecord(KvmSegment.class, random);
    KvmDtable gdt = (KvmDtable) randomRecord(KvmDtable.class, random);
    KvmDtable idt = (KvmDtable) randomRecord(KvmDtable.class, random);
    long cr0 = random.nextLong();
    long cr3 = random.nextLong();
    long cr4 = random.nextLong();
    long efer = random.nextLong();

    assertEquals(
        s.withCr0(cr0).withCr3(cr3).withCr4(cr4).withEfer(efer),
        s.withControl(cr0, cr3, cr4, efer));
    assertEquals(
        s.withDs(seg).withEs(seg).withFs(seg).withGs(seg).withSs(seg), s.withDataSegments(seg));
    assertEquals(s.withGdt(gdt).withIdt(idt), s.withTables(gdt, idt));

    KvmIoregion region = (KvmIoregion) randomRecord(KvmIoregion.class, random);
    assertEquals(
        region.withFlags(region.flags() | KvmConstants.KVM_IOREGION_DEASSIGN), region.deassign());
    KvmIoeventfd ioeventfd = (KvmIoeventfd) randomRecord(KvmIoeventfd.class, random);
    assertEquals(
        ioeventfd.withFlags(ioeventfd.flags() | KvmConstants.KVM_IOEVENTFD_FLAG_DEASSIGN),
        ioeventfd.deassign());
  }

  @Example
  void segmentFactoriesAreZeroPlusWithers() {
    KvmSegment flatCode =
        KvmSegment.ZERO
            .withLimit(0xffff_ffffL)
            .withSelector(0x08)
            .withType(KvmSegment.TYPE_CODE_XR_ACCESSED)
            .withPresent(true)
            .withDb(true)
            .withS(true)
            .withG(true);
    assertEquals(KvmSegment.flat32(0x08, true), flatCode);
    assertEquals(KvmSegment.long64(0x08, true), flatCode.withDb(false).withL(true));
    assertEquals(
        KvmSegment.realMode(0x1234, false),
        KvmSegment.ZERO
            .withBase(0x12340)
            .withLimit(0xffff)
            .withSelector(0x1234)
            .withType(KvmSegment.TYPE_DATA_RW_ACCESSED)
            .withPresent(true)
            .withS(true));
  }

  static Record randomRecord(Class<? extends Record> type, Random random)
      throws ReflectiveOperationException {
    RecordComponent[] components = type.getRecordComponents();
    Class<?>[] types = new Class<?>[components.length];
    Object[] values = new Object[components.length];
    for (int i = 0; i < components.length; i++) {
      types[i] = components[i].getType();
      values[i] = randomValue(types[i], random);
    }
    try {
      return type.getDeclaredConstructor(types).newInstance(values);
    } catch (InvocationTargetException e) {
      throw new AssertionError("canonical constructor of " + type + " refused", e.getCause());
    }
  }

  @SuppressWarnings("unchecked")
  static Object randomValue(Class<?> type, Random random) throws ReflectiveOperationException {
    if (type == long.class) {
      return random.nextInt(4) == 0 ? (long) random.nextInt(4) : random.nextLong();
    } else if (type == int.class) {
      return random.nextInt(4) == 0 ? random.nextInt(4) : random.nextInt();
    } else if (type == boolean.class) {
      return random.nextBoolean();
    } else if (type == MemorySegment.class) {
      return MemorySegment.ofAddress(random.nextLong() >>> 12 << 12);
    } else if (Record.class.isAssignableFrom(type)) {
      return randomRecord((Class<? extends Record>) type, random);
    }
    throw new IllegalArgumentException("no generator for " + type);
  }
}
