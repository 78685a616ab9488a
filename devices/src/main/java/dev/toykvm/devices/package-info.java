/** Device models. */
package dev.toykvm.devices;
