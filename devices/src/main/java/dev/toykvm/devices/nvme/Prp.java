package dev.toykvm.devices.nvme;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A command's data buffer described by Physical Region Page entries (NVMe 1.4, "Physical Region
 * Page Entry and List"), with the memory page size CC.MPS = 0 (4 KiB), the only one offered.
 *
 * <ul>
 *   <li>PRP1 points at the first byte; its offset in the page must be dword aligned. The buffer
 *       runs to the end of that page or the end of the transfer.
 *   <li>If one more page finishes the transfer, PRP2 is that page (offset 0).
 *   <li>Otherwise PRP2 points at a PRP list (qword aligned, any offset): one entry (offset 0) per
 *       further page. When more entries remain than fit in the rest of the list's page, the page's
 *       last entry points at the next page of the list (offset 0) instead of at data.
 * </ul>
 *
 * <p>An offset broken against these rules is Invalid PRP Offset; a list that cannot be read is a
 * Data Transfer Error. Reading or writing the buffer through {@link Dma} fails the same way.
 */
final class Prp {
  static final int PAGE = 4096;
  private static final int ENTRIES_PER_PAGE = PAGE / 8;

  /** One contiguous piece of the buffer in guest memory. */
  record Segment(long addr, int length) {}

  private final List<Segment> segments;
  private final int status;

  private Prp(List<Segment> segments, int status) {
    this.segments = segments;
    this.status = status;
  }

  /** The {@link NvmeStatus} of the description: SUCCESS or why the buffer cannot be used. */
  int status() {
    return status;
  }

  List<Segment> segments() {
    return segments;
  }

  /** Walks PRP1, PRP2 and the lists for {@code length} bytes ({@code length} > 0). */
  static Prp resolve(Dma dma, long prp1, long prp2, int length) {
    List<Segment> out = new ArrayList<>();
    if ((prp1 & 3) != 0) {
      return failed(NvmeStatus.INVALID_PRP_OFFSET);
    }
    int first = (int) Math.min(length, PAGE - (prp1 & (PAGE - 1)));
    add(out, prp1, first);
    int remaining = length - first;
    if (remaining == 0) {
      return new Prp(out, NvmeStatus.SUCCESS);
    }
    if (remaining <= PAGE) {
      if ((prp2 & (PAGE - 1)) != 0) {
        return failed(NvmeStatus.INVALID_PRP_OFFSET);
      }
      add(out, prp2, remaining);
      return new Prp(out, NvmeStatus.SUCCESS);
    }
    if ((prp2 & 7) != 0) {
      return failed(NvmeStatus.INVALID_PRP_OFFSET);
    }
    long list = prp2;
    int needed = (remaining + PAGE - 1) / PAGE;
    while (needed > 0) {
      int slots = (int) (ENTRIES_PER_PAGE - (list & (PAGE - 1)) / 8);
      boolean chained = needed > slots;
      long[] entries = dma.readLongs(list, chained ? slots : needed);
      if (entries == null) {
        return failed(NvmeStatus.DATA_TRANSFER_ERROR);
      }
      int data = chained ? slots - 1 : needed;
      for (int i = 0; i < data; i++) {
        if ((entries[i] & (PAGE - 1)) != 0) {
          return failed(NvmeStatus.INVALID_PRP_OFFSET);
        }
        int n = Math.min(PAGE, remaining);
        add(out, entries[i], n);
        remaining -= n;
      }
      needed -= data;
      if (chained) {
        list = entries[slots - 1];
        if ((list & (PAGE - 1)) != 0) {
          return failed(NvmeStatus.INVALID_PRP_OFFSET);
        }
      }
    }
    return new Prp(out, NvmeStatus.SUCCESS);
  }

  /** Copies {@code data} into the buffer; the status of the transfer. */
  int toGuest(Dma dma, byte[] data) {
    if (segments.size() == 1) { // one contiguous buffer: no copy
      return dma.write(segments.getFirst().addr, data)
          ? NvmeStatus.SUCCESS
          : NvmeStatus.DATA_TRANSFER_ERROR;
    }
    int at = 0;
    for (Segment s : segments) {
      if (!dma.write(s.addr, Arrays.copyOfRange(data, at, at + s.length))) {
        return NvmeStatus.DATA_TRANSFER_ERROR;
      }
      at += s.length;
    }
    return NvmeStatus.SUCCESS;
  }

  /** Copies the buffer into {@code data}; the status of the transfer. */
  int fromGuest(Dma dma, byte[] data) {
    if (segments.size() == 1) {
      return dma.read(segments.getFirst().addr, data)
          ? NvmeStatus.SUCCESS
          : NvmeStatus.DATA_TRANSFER_ERROR;
    }
    int at = 0;
    for (Segment s : segments) {
      byte[] piece = new byte[s.length];
      if (!dma.read(s.addr, piece)) {
        return NvmeStatus.DATA_TRANSFER_ERROR;
      }
      System.arraycopy(piece, 0, data, at, s.length);
      at += s.length;
    }
    return NvmeStatus.SUCCESS;
  }

  private static Prp failed(int status) {
    return new Prp(List.of(), status);
  }

  /** Adds a piece, merged with the previous one when they touch (fewer, larger copies). */
  private static void add(List<Segment> out, long addr, int length) {
    if (!out.isEmpty()) {
      Segment last = out.getLast();
      if (last.addr + last.length == addr) {
        out.set(out.size() - 1, new Segment(last.addr, last.length + length));
        return;
      }
    }
    out.add(new Segment(addr, length));
  }
}
