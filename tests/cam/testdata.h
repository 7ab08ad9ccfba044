/* Test data for mimovk-cam: a synthetic camera made of Fashion-MNIST test images. */
#ifndef MVK_CAM_TESTDATA_H
#define MVK_CAM_TESTDATA_H

#include <stdbool.h>

#define CAM_TEST_FMNIST "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"

/* Writes the first `count` Fashion-MNIST test images, enlarged `scale` times (nearest), as
 * DIR/png/img-NNNN.png (RGB, gray values) and as one video DIR/frames.y4m (C420jpeg, full
 * range: the same gray values). Returns false with a message on stderr. */
bool cam_test_make_source(const char *dir, int count, int scale);

/* Checks a screenshot of the window (PNG): not blank, header, live frame and label strip drawn
 * (strip background, label text and confidence bars at the layout's places). */
bool cam_test_check_shot(const char *png, char *why, int whysz);

#endif
