/* The C API from C11: a context of vkgrad's own and one adopted from a device this program
 * creates with the requirements vkgrad lists; a graph, a trainer that learns a linear map
 * (the loss falls below a tenth), predictions, a checkpoint an inference model loads and
 * predicts from bitwise alike, the GLSL export, and errors as result codes with messages.
 * Exit status 0 when every check holds. */
#include <vkgrad/vkgrad.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;

#define CHECK(cond)                                                              \
  do {                                                                           \
    if (!(cond)) {                                                               \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
      ++failures;                                                                \
    }                                                                            \
  } while (0)
#define CHECK_OK(call)                                                                       \
  do {                                                                                       \
    vkgrad_result r_ = (call);                                                               \
    if (r_ != VKGRAD_OK) {                                                                   \
      fprintf(stderr, "%s:%d: %s returned %d: %s\n", __FILE__, __LINE__, #call, (int)r_,    \
              vkgrad_last_error());                                                          \
      ++failures;                                                                            \
    }                                                                                        \
  } while (0)

enum { kRows = 8, kIn = 4, kOut = 2 };

/* y = A·x for a fixed A: learnable exactly by the linear layers. */
static void make_batch(unsigned seed, float* x, float* y) {
  static const float a[kOut][kIn] = {{0.5f, -1.0f, 0.25f, 0.0f}, {1.0f, 0.5f, -0.5f, 0.75f}};
  for (int r = 0; r < kRows; ++r) {
    for (int i = 0; i < kIn; ++i) {
      seed = seed * 1664525u + 1013904223u;
      x[r * kIn + i] = (float)(seed >> 8) / 16777216.0f * 2.0f - 1.0f;
    }
    for (int o = 0; o < kOut; ++o) {
      y[r * kOut + o] = 0.0f;
      for (int i = 0; i < kIn; ++i) y[r * kOut + o] += a[o][i] * x[r * kIn + i];
    }
  }
}

static vkgrad_graph make_graph(void) {
  vkgrad_graph g = NULL;
  vkgrad_tensor x, h, pred, y;
  const uint32_t in_dims[] = {kIn}, out_dims[] = {kOut};
  CHECK_OK(vkgrad_graph_create(&g));
  CHECK_OK(vkgrad_graph_input(g, "x", in_dims, 1, &x));
  CHECK_OK(vkgrad_graph_input(g, "y", out_dims, 1, &y));
  CHECK_OK(vkgrad_graph_linear(g, x, 16, "a", VKGRAD_ACTIVATION_NONE, 1, &h));
  CHECK_OK(vkgrad_graph_unary(g, h, VKGRAD_UNARY_TANH, &h));
  CHECK_OK(vkgrad_graph_linear(g, h, kOut, "b", VKGRAD_ACTIVATION_NONE, 1, &pred));
  CHECK_OK(vkgrad_graph_loss(g, VKGRAD_LOSS_MSE, pred, y));
  return g;
}

static void train_and_reload(vkgrad_context ctx, const char* dir) {
  vkgrad_graph g = make_graph();
  vkgrad_trainer_info info = vkgrad_trainer_info_defaults();
  info.batch_size = kRows;
  info.lr = 1e-2f;
  info.weight_decay = 0.0f;
  vkgrad_trainer t = NULL;
  CHECK_OK(vkgrad_trainer_create(ctx, g, &info, &t));
  if (!t) return;
  float x[kRows * kIn], y[kRows * kOut];
  vkgrad_feed feeds[2] = {{x, kRows * kIn, NULL, 0}, {y, kRows * kOut, NULL, 0}};
  const vkgrad_batch batch = {kRows, feeds, 2};
  float first = 0.0f;
  for (unsigned step = 0; step < 300; ++step) {
    make_batch(step % 16, x, y);
    CHECK_OK(vkgrad_trainer_step(t, &batch));
    if (step == 0) {
      vkgrad_metrics m;
      CHECK_OK(vkgrad_trainer_metrics(t, 1, &m));
      first = m.loss;
    }
  }
  vkgrad_metrics m;
  CHECK_OK(vkgrad_trainer_metrics(t, 1, &m));
  printf("c api: %llu steps, loss %.5f -> %.5f, scale %g\n", (unsigned long long)m.steps, first, m.loss, m.loss_scale);
  CHECK(m.valid && m.steps == 300 && m.loss < first / 10);

  /* Predictions from the inputs alone, and the same from an inference model of the checkpoint. */
  make_batch(99, x, y);
  const vkgrad_batch inputs = {kRows, feeds, 1};
  float p[kRows * kOut], q[kRows * kOut];
  size_t written = 0;
  CHECK_OK(vkgrad_trainer_predict(t, &inputs, p, kRows * kOut, &written));
  CHECK(written == kRows * kOut);
  char path[512], glsl[512], weights[512];
  snprintf(path, sizeof path, "%s/c_api.safetensors", dir);
  snprintf(glsl, sizeof glsl, "%s/c_api_net.glsl", dir);
  snprintf(weights, sizeof weights, "%s/c_api_net.bin", dir);
  CHECK_OK(vkgrad_trainer_save_checkpoint(t, path));
  vkgrad_model model = NULL;
  const vkgrad_model_info model_info = {kRows, VKGRAD_PRECISION_MIXED, NULL, 0, NULL};
  CHECK_OK(vkgrad_model_create(ctx, g, &model_info, &model));
  CHECK_OK(vkgrad_model_load(model, path));
  CHECK_OK(vkgrad_model_predict(model, &inputs, q, kRows * kOut, &written));
  CHECK(memcmp(p, q, sizeof p) == 0);
  CHECK_OK(vkgrad_trainer_export_glsl(t, g, glsl, weights, 1));
  FILE* f = fopen(glsl, "r");
  CHECK(f != NULL);
  if (f) fclose(f);

  /* Errors: a code and a message naming the problem; nothing crosses as an exception. */
  const vkgrad_batch too_many = {kRows + 1, feeds, 2};
  CHECK(vkgrad_trainer_step(t, &too_many) == VKGRAD_ERROR_FAILED);
  CHECK(strstr(vkgrad_last_error(), "9 rows") != NULL);
  CHECK(vkgrad_trainer_step(NULL, &batch) == VKGRAD_ERROR_INVALID_ARGUMENT);
  CHECK(strstr(vkgrad_last_error(), "vkgrad_trainer_step") != NULL);
  CHECK(vkgrad_model_predict(model, &inputs, q, 3, &written) == VKGRAD_ERROR_INVALID_ARGUMENT && written == kRows * kOut);
  CHECK(vkgrad_model_load(model, "/nonexistent/ckpt.safetensors") == VKGRAD_ERROR_FAILED);
  CHECK(strstr(vkgrad_last_error(), "/nonexistent/ckpt.safetensors") != NULL);
  /* Recording an inference pass needs shared predictions: a command buffer is never touched. */
  CHECK(vkgrad_model_record_predict(model, (VkCommandBuffer)(uintptr_t)1, kRows) == VKGRAD_ERROR_FAILED);
  CHECK(strstr(vkgrad_last_error(), "shared_predictions") != NULL);
  vkgrad_tensor bad;
  CHECK(vkgrad_graph_linear(g, 12345, 4, "c", VKGRAD_ACTIVATION_NONE, 1, &bad) == VKGRAD_ERROR_FAILED);

  vkgrad_model_destroy(model);
  vkgrad_trainer_destroy(t);
  vkgrad_graph_destroy(g);
  remove(path);
  remove(glsl);
  remove(weights);
}

/* A host's own instance and device, created with what vkgrad's requirements list. */
static void adopt(const char* dir) {
  VkApplicationInfo app = {VK_STRUCTURE_TYPE_APPLICATION_INFO};
  app.apiVersion = VK_API_VERSION_1_3;
  VkInstanceCreateInfo ici = {VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
  ici.pApplicationInfo = &app;
  VkInstance instance = VK_NULL_HANDLE;
  if (vkCreateInstance(&ici, NULL, &instance) != VK_SUCCESS) {
    fprintf(stderr, "vkCreateInstance failed\n");
    ++failures;
    return;
  }
  uint32_t count = 1;
  VkPhysicalDevice pd = VK_NULL_HANDLE;
  vkEnumeratePhysicalDevices(instance, &count, &pd);
  uint32_t families = 0;
  vkGetPhysicalDeviceQueueFamilyProperties(pd, &families, NULL);
  VkQueueFamilyProperties props[16];
  if (families > 16) families = 16;
  vkGetPhysicalDeviceQueueFamilyProperties(pd, &families, props);
  uint32_t family = 0;
  while (family < families && !(props[family].queueFlags & VK_QUEUE_COMPUTE_BIT)) ++family;

  vkgrad_requirements req = NULL;
  CHECK_OK(vkgrad_requirements_create(vkGetInstanceProcAddr, instance, pd, &req));
  if (!req) {
    vkDestroyInstance(instance, NULL);
    return;
  }
  VkPhysicalDeviceFeatures2 features = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
  vkgrad_requirements_merge_features(req, &features);
  const char* extensions[16];
  uint32_t n = vkgrad_requirements_extension_count(req);
  CHECK(n > 0 && n <= 16);
  for (uint32_t i = 0; i < n && i < 16; ++i) extensions[i] = vkgrad_requirements_extension(req, i);
  const float priority = 1.0f;
  VkDeviceQueueCreateInfo qci = {VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
  qci.queueFamilyIndex = family;
  qci.queueCount = 1;
  qci.pQueuePriorities = &priority;
  VkDeviceCreateInfo dci = {VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO};
  dci.pNext = &features;
  dci.queueCreateInfoCount = 1;
  dci.pQueueCreateInfos = &qci;
  dci.enabledExtensionCount = n < 16 ? n : 16;
  dci.ppEnabledExtensionNames = extensions;
  VkDevice device = VK_NULL_HANDLE;
  CHECK(vkCreateDevice(pd, &dci, NULL, &device) == VK_SUCCESS);
  if (device) {
    VkQueue queue = VK_NULL_HANDLE;
    vkGetDeviceQueue(device, family, 0, &queue);
    vkgrad_adopt_info ai = {0};
    ai.get_instance_proc_addr = vkGetInstanceProcAddr;
    ai.instance = instance;
    ai.physical_device = pd;
    ai.device = device;
    ai.queue = queue;
    ai.queue_family = family;
    ai.requirements = req;
    vkgrad_context ctx = NULL;
    CHECK_OK(vkgrad_context_adopt(&ai, &ctx));
    if (ctx) {
      printf("c api: adopted %s\n", vkgrad_context_device_name(ctx));
      train_and_reload(ctx, dir);
    }
    vkgrad_context_destroy(ctx);
    vkDestroyDevice(device, NULL);
  }
  vkgrad_requirements_destroy(req);
  vkDestroyInstance(instance, NULL);
}

int main(int argc, char** argv) {
  const char* dir = argc > 1 ? argv[1] : ".";
  CHECK(strcmp(vkgrad_last_error(), "") == 0);
  CHECK(vkgrad_context_create(NULL, NULL) == VKGRAD_ERROR_INVALID_ARGUMENT);

  vkgrad_context_info ci = {-1, 0};
  vkgrad_context ctx = NULL;
  CHECK_OK(vkgrad_context_create(&ci, &ctx));
  if (ctx) {
    printf("c api: device %s\n", vkgrad_context_device_name(ctx));
    train_and_reload(ctx, dir);
  }
  vkgrad_context_destroy(ctx);
  adopt(dir);
  vkgrad_context_destroy(NULL);  /* NULL is accepted by every destroy */
  printf("c api: %d failures\n", failures);
  return failures == 0 ? 0 : 1;
}
