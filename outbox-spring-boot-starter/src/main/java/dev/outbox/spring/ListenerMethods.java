package dev.outbox.spring;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.springframework.aop.support.AopUtils;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.core.MethodIntrospector;
import org.springframework.core.annotation.AnnotatedElementUtils;

/**
 * Finds the {@code @OutboxListener} methods of every bean as it is created. Holds no other bean,
 * so it can be created before them all; {@link OutboxListeners} starts what it found.
 */
final class ListenerMethods implements BeanPostProcessor {

    private final List<ListenerMethod> found = new ArrayList<>();

    @Override
    public Object postProcessAfterInitialization(Object bean, String beanName) {
        Class<?> type = AopUtils.getTargetClass(bean);
        Map<Method, OutboxListener> annotated =
                MethodIntrospector.selectMethods(type, (MethodIntrospector.MetadataLookup<OutboxListener>)
                        m -> AnnotatedElementUtils.findMergedAnnotation(m, OutboxListener.class));
        if (!annotated.isEmpty()) {
            synchronized (found) {
                annotated.forEach((method, annotation) -> {
                    // Through the proxy when there is one, so @Transactional and other advice apply.
                    Method invocable = AopUtils.selectInvocableMethod(method, bean.getClass());
                    found.add(new ListenerMethod(bean, method, invocable, annotation));
                });
            }
        }
        return bean;
    }

    List<ListenerMethod> found() {
        synchronized (found) {
            return List.copyOf(found);
        }
    }
}
