#pragma once
// Boost.MPL limits for the Boost.MSM machines (review_machine.cc,
// deadline_machine.cc, meeting_machine.cc). Include this first in each machine's .cc: the limits
// only take effect if they are defined before any Boost header is read.
//
// A transition table is an mpl::vector of rows, 20 at most by default. The
// deadline machine has 33 rows (26 transitions and 7 restoring rows), so the
// limit is raised to 40 (it must be a multiple of ten), which needs MPL's
// non-preprocessed headers. The machines have at most nine states (the meeting
// machine: eight and the restoring pseudo-state), within the default Fusion
// limit of ten; a tenth state would need the Fusion limits raised here.
//
// Nothing outside the machines' .cc files includes this header; everything
// Boost.MSM declares there lives in an anonymous namespace.

#if defined(BOOST_MPL_VECTOR_HPP_INCLUDED) || defined(BOOST_MPL_LIMITS_VECTOR_HPP_INCLUDED)
#error "workflows/msm_config.h must be included before any Boost header"
#endif

#define BOOST_MPL_CFG_NO_PREPROCESSED_HEADERS
#define BOOST_MPL_LIMIT_VECTOR_SIZE 40
