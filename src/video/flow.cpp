// flow.cpp: flow.h on OpenCV's DISOpticalFlow. No C++ exception leaves this
// file: OpenCV reports failures by throwing cv::Exception, which becomes an
// nst_error here.
#include "video/flow.h"

#include <new>
#include <opencv2/core.hpp>
#include <opencv2/core/utility.hpp>
#include <opencv2/video/tracking.hpp>

struct flow_estimator {
    cv::Ptr<cv::DISOpticalFlow> dis;
};

extern "C" int flow_create(flow_preset preset, flow_estimator **f, nst_error *err) {
    *f = nullptr;
    try {
        flow_estimator *e = new flow_estimator;
        e->dis = cv::DISOpticalFlow::create(static_cast<int>(preset));
        *f = e;
        return NST_OK;
    } catch (const std::bad_alloc &) {
        return nst_fail(err, NST_ERR_NOMEM, "optical flow: out of memory");
    } catch (const cv::Exception &ex) {
        return nst_fail(err, NST_ERR_RUNTIME, "optical flow: %s", ex.what());
    }
}

extern "C" int flow_compute(flow_estimator *f, const uint8_t *a, const uint8_t *b, int w, int h,
                            float *uv, nst_error *err) {
    try {
        const cv::Mat ma(h, w, CV_8UC1, const_cast<uint8_t *>(a));
        const cv::Mat mb(h, w, CV_8UC1, const_cast<uint8_t *>(b));
        // DIS takes a non-empty output as its starting estimate; an empty one
        // makes each flow depend on its two frames alone, so a resumed run
        // computes the flows of an uninterrupted one
        cv::Mat flow;
        f->dis->calc(ma, mb, flow);
        if (flow.rows != h || flow.cols != w || flow.type() != CV_32FC2)
            return nst_fail(err, NST_ERR_RUNTIME, "optical flow: unexpected result %dx%d", flow.cols,
                            flow.rows);
        cv::Mat out(h, w, CV_32FC2, uv);
        flow.copyTo(out);
        return NST_OK;
    } catch (const std::bad_alloc &) {
        return nst_fail(err, NST_ERR_NOMEM, "optical flow: out of memory for %dx%d frames", w, h);
    } catch (const cv::Exception &ex) {
        return nst_fail(err, NST_ERR_RUNTIME, "optical flow on %dx%d frames failed: %s", w, h, ex.what());
    }
}

extern "C" void flow_free(flow_estimator *f) { delete f; }

extern "C" void flow_set_threads(int n) { cv::setNumThreads(n); }
