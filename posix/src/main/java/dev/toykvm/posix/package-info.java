/**
 * The libc calls a Java VMM and its device processes need, bound with FFM, one class per concern:
 *
 * <ul>
 *   <li>{@link dev.toykvm.posix.Fds}: {@code pipe2} (a {@link dev.toykvm.posix.Pipe}), {@code
 *       read}, {@code write} and their looping forms, {@code close}, {@code dup}, reopening an fd
 *       with other flags, whether an fd is open;
 *   <li>{@link dev.toykvm.posix.Poll}: {@code poll}, with {@link dev.toykvm.posix.PollResult}s or
 *       on a caller-owned {@code struct pollfd} array;
 *   <li>{@link dev.toykvm.posix.Eventfd}: creating, signalling and draining eventfds;
 *   <li>{@link dev.toykvm.posix.Processes}: {@code posix_spawnp}, {@code kill}, {@code waitpid} (a
 *       {@link dev.toykvm.posix.WaitStatus}), the ids, the parent-death signal;
 *   <li>{@link dev.toykvm.posix.Affinity}: {@code sched_setaffinity} and where threads may run;
 *   <li>{@link dev.toykvm.posix.Errnos}: the errno numbers callers test, their names and texts.
 * </ul>
 *
 * <p>This module is how a Java VMM gets the pipes and eventfds that {@code VmFd.setIoregion},
 * {@code VmFd.ioeventfd} (and, soon, irqfd) take: {@link dev.toykvm.posix.Fds#pipe2()} and {@link
 * dev.toykvm.posix.Eventfd#create()} make real OS fds, passed across the kernel line as {@code
 * int}s as in Linux.
 *
 * <p>Every failing call throws a {@link dev.toykvm.posix.PosixException} naming the call and the
 * errno (captured with {@code Linker.Option.captureCallState("errno")}, so the JVM's own calls
 * cannot overwrite it). All fds this package creates are close-on-exec. The calls that block
 * ({@code read}, {@code write}, {@code poll}, {@code waitpid}) block the calling carrier thread:
 * use platform threads for them, not virtual threads. Each class links its libc functions when it
 * is first used.
 */
package dev.toykvm.posix;
