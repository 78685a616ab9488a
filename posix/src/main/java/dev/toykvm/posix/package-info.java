/**
 * An FFM binding to the libc calls toykvm needs for its pipes, eventfds and device processes:
 * {@link dev.toykvm.posix.Posix}. Failures are {@link dev.toykvm.posix.PosixException}s naming the
 * call and the errno.
 */
package dev.toykvm.posix;
