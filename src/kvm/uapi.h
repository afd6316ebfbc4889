// <linux/kvm.h> for C++. Include this, never <linux/kvm.h> directly.
//
// Debian 12's uapi headers declare flexible arrays (kvm_cpuid2::entries, kvm_msrs::entries, ...)
// through __DECLARE_FLEX_ARRAY, which wraps them with an empty struct. An empty struct has size 0
// in C but 1 in C++, so in C++ the arrays move and the _IOWR ioctl numbers (which encode the struct
// size) change: KVM_GET_SUPPORTED_CPUID then fails with EINVAL. Declaring them as plain [0] arrays
// restores the C layout; the static_asserts below hold kiln to it.
#pragma once
#pragma GCC system_header

#include <linux/stddef.h>
#undef __DECLARE_FLEX_ARRAY
#define __DECLARE_FLEX_ARRAY(TYPE, NAME) TYPE NAME[0]
#include <linux/kvm.h>

#include <cstddef>

static_assert(sizeof(kvm_cpuid2) == 8 && offsetof(kvm_cpuid2, entries) == 8, "kvm_cpuid2 layout");
static_assert(sizeof(kvm_msrs) == 8 && offsetof(kvm_msrs, entries) == 8, "kvm_msrs layout");
static_assert(sizeof(kvm_msr_list) == 4 && offsetof(kvm_msr_list, indices) == 4, "kvm_msr_list layout");
static_assert(sizeof(kvm_irq_routing) == 8, "kvm_irq_routing layout");
static_assert(sizeof(kvm_xsave) == 4096, "kvm_xsave layout (KVM_GET_XSAVE ioctl number)");
static_assert(KVM_GET_SUPPORTED_CPUID == 0xc008ae05, "KVM_GET_SUPPORTED_CPUID ioctl number");
