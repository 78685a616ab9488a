/** Runnable demos and teaching labs built on the kvm-api. */
package dev.toykvm.examples;
