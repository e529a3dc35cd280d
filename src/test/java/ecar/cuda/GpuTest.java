package ecar.cuda;

import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * A test class that runs on the GPU: {@link GpuBackendExtension} skips every test with the probe's reason where there is
 * no usable GPU or no built kernels, and otherwise fills the class's static {@code CudaBackend} field with a backend of
 * this arena size whose new tensors are NaN-poisoned (an element a kernel skips shows), closed after the class.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@ExtendWith(GpuBackendExtension.class)
public @interface GpuTest {
    /** The backend's arena in MiB. */
    long arenaMiB() default 256;
}
